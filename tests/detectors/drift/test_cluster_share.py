"""Cluster-share drift: false alarms and power on real sentence embeddings, the chi-square test
and its exact fallback, naming."""

from __future__ import annotations

import json

import numpy as np
import pytest

from detectors.drift.cluster_share import ClusterShareDrift
from detectors.topics.clustering import TopicModel
from tests.support.embedding_pool import (
    EmbeddingPool,
    draw_no_shift,
    draw_with_drift,
)

ALPHA = 0.05
N_REF, N_TEST = 500, 200  # the worker's reference sample; a typical window sample


def build(reference: np.ndarray, trial: int) -> ClusterShareDrift:
    return ClusterShareDrift(reference, alpha=ALPHA, seed=trial)


def test_false_alarm_rate_on_unchanged_traffic_is_alpha(embedding_pool: EmbeddingPool) -> None:
    rng = np.random.default_rng(2024)
    draws = (draw_no_shift(embedding_pool, rng, N_REF, N_TEST) for _ in range(200))
    results = [build(reference, trial).score(window)
               for trial, (reference, window) in enumerate(draws)]
    rate = np.mean([r.drifted for r in results])
    # At the level, the rate is about Binomial(200, 0.05) / 200: [0.02, 0.08] holds with
    # probability > 0.98; the seeds make the outcome fixed.
    assert 0.02 <= rate <= 0.08
    # The worker's sample sizes are what the chi-square test is for.
    assert np.mean([r.params["null"] == "chi2" for r in results]) >= 0.9


def test_a_new_topic_is_detected_and_named_as_the_cluster_that_grew(
    embedding_pool: EmbeddingPool,
) -> None:
    rng = np.random.default_rng(7)
    detected, named = [], []
    for trial in range(60):
        reference, window = draw_with_drift(embedding_pool, rng, N_REF, N_TEST, fraction=0.3)
        detector = build(reference, trial)
        result = detector.score(window)
        new_rows = window[-round(0.3 * N_TEST):]  # draw_with_drift appends the new topic
        partition = detector.fit_partition(window)
        new_cluster = int(np.bincount(partition.predict(new_rows)).argmax())
        detected.append(result.drifted)
        named.append(result.params["grew"][:1] == [new_cluster])
    assert np.mean(detected) >= 0.95
    assert np.mean(named) >= 0.95


def test_params_say_how_much_each_cluster_moved(embedding_pool: EmbeddingPool) -> None:
    rng = np.random.default_rng(3)
    reference, window = draw_with_drift(embedding_pool, rng, N_REF, N_TEST, fraction=0.3)
    result = build(reference, 0).score(window)
    params = json.loads(json.dumps(result.params))  # stored as JSON in drift.params
    clusters = params["clusters"]
    assert [c["cluster"] for c in clusters] == list(range(params["n_clusters"]))
    assert sum(c["reference_share"] for c in clusters) == pytest.approx(1.0)
    assert sum(c["window_share"] for c in clusters) == pytest.approx(1.0)
    grown = clusters[params["grew"][0]]
    # 30 % of the window is the new topic, which the reference barely has.
    assert grown["window_share"] >= 0.25 and grown["reference_share"] <= 0.05
    assert grown["residual"] > params["residual_cut"]
    for j in params["shrank"]:
        assert clusters[j]["window_share"] < clusters[j]["reference_share"]
    assert result.method == "cluster_share" and result.n_ref == N_REF
    assert result.statistic > result.threshold and result.p_value <= ALPHA
    assert params["null"] == "chi2" and params["min_expected"] >= 5


def _blobs(rng: np.random.Generator, n: int, shares: list[float]) -> np.ndarray:
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0], [6.0, 6.0], [12.0, 0.0]])
    topic = rng.choice(len(shares), size=n, p=shares)
    return centres[topic] + rng.normal(size=(n, 2))


def test_sparse_clusters_and_tiny_windows_keep_the_level() -> None:
    """Expected counts far below 5 in most cells: the exact fallback holds the level."""
    shares = [0.85, 0.05, 0.04, 0.03, 0.03]
    rng = np.random.default_rng(11)
    rejections, nulls = [], set()
    for trial in range(300):
        detector = ClusterShareDrift(_blobs(rng, 60, shares), n_clusters=5, alpha=ALPHA,
                                     n_permutations=199, seed=trial)
        result = detector.score(_blobs(rng, 12, shares))
        rejections.append(result.drifted)
        nulls.add(result.params["null"])
    assert nulls == {"permutation"}  # no table here is large enough for the approximation
    assert np.mean(rejections) <= 0.08  # exact test: at most alpha plus sampling noise


def test_the_chi_square_p_value_agrees_with_the_exact_one_on_large_tables() -> None:
    rng = np.random.default_rng(4)
    shares = [0.3, 0.3, 0.2, 0.1, 0.1]
    for trial in range(5):
        reference = _blobs(rng, 500, shares)
        window = _blobs(rng, 200, [0.25, 0.3, 0.2, 0.15, 0.1])
        topics = TopicModel(n_clusters=5, seed=0).fit(np.concatenate([reference, window]))
        chi2, exact = (
            ClusterShareDrift(reference, topics=topics, null=null, n_permutations=1999,
                              seed=trial).score(window)
            for null in ("chi2", "permutation")
        )
        assert chi2.statistic == pytest.approx(exact.statistic)
        assert chi2.threshold == pytest.approx(exact.threshold, rel=0.1)
        assert chi2.p_value == pytest.approx(exact.p_value, abs=0.03)


def test_a_given_partition_names_its_own_cluster_ids() -> None:
    rng = np.random.default_rng(5)
    reference = _blobs(rng, 400, [0.4, 0.3, 0.3, 0.0, 0.0])
    window = _blobs(rng, 200, [0.2, 0.3, 0.2, 0.0, 0.3])  # topic 4 appears
    everything = np.concatenate([reference, window])
    topics = TopicModel(n_clusters=5, seed=0).fit(everything)
    new_cluster = int(topics.predict(np.array([[12.0, 0.0]]))[0])
    result = ClusterShareDrift(reference, topics=topics, seed=0).score(window)
    assert result.drifted and result.params["partition"] == "given"
    assert result.params["grew"][0] == new_cluster
    assert result.params["clusters"][new_cluster]["reference_share"] <= 0.01


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"n_clusters": 0}, "n_clusters"), ({"n_permutations": 5}, "n_permutations"),
     ({"topics": TopicModel()}, "topics"), ({"null": "normal"}, "null")],
)
def test_invalid_settings_name_the_argument(kwargs: dict, argument: str) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        ClusterShareDrift(np.zeros((10, 3)) + np.arange(3), **kwargs)
