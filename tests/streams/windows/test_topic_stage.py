"""The worker's topic stage on synthetic topics: a restart rebuilds the same clusters and
projection, and the cluster-share row names the topic that appeared by its words."""

from __future__ import annotations

import numpy as np

from streams.settings import DriftSettings
from streams.windows.topic_stage import ReferenceTopics

WORDS = (("refund", "order"), ("password", "reset"), ("invoice", "billing"),
         ("crypto", "tax"))


def topics(rng: np.random.Generator, n: int, shares: list[float]) -> tuple[np.ndarray, list[str]]:
    centres = np.eye(8)[: len(WORDS)] * 6
    topic = rng.choice(len(WORDS), size=n, p=shares)
    texts = [f"{WORDS[t][0]} {WORDS[t][1]} question {i}" for i, t in enumerate(topic)]
    return centres[topic] + rng.normal(size=(n, 8)), texts


def test_a_rebuilt_stage_places_rows_as_before_and_names_the_new_topic() -> None:
    rng = np.random.default_rng(0)
    reference, ref_texts = topics(rng, 400, [0.4, 0.3, 0.3, 0.0])
    window, window_texts = topics(rng, 150, [0.3, 0.2, 0.2, 0.3])
    settings = DriftSettings(drift_clusters=6, drift_alpha=0.01, drift_permutations=199,
                             drift_seed=0)
    first = ReferenceTopics(reference, ref_texts, settings)
    again = ReferenceTopics(reference, ref_texts, settings)  # after a restart: same sample
    placed, replaced = first.place(window), again.place(window)
    assert np.array_equal(placed.cluster, replaced.cluster)
    assert np.array_equal(placed.xy, replaced.xy) and np.isfinite(placed.xy).all()
    assert set(placed.cluster.tolist()) <= set(range(6))

    result = first.test(window, window_texts)
    assert result.method == "cluster_share" and result.drifted
    assert result.params["changed_clusters"].startswith("grew: crypto · tax 0.0% → ")
    grown = result.params["clusters"][result.params["grew"][0]]
    assert grown["example"].startswith("crypto tax question")
    quiet, quiet_texts = topics(rng, 150, [0.4, 0.3, 0.3, 0.0])
    unchanged = first.test(quiet, quiet_texts)
    assert not unchanged.drifted and unchanged.params["changed_clusters"] == ""
