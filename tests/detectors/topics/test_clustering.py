"""Topic clusters of real sentence embeddings: they follow the topics and describe them."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.topics.clustering import TopicModel
from tests.support.topic_texts import NEW_TOPIC, LabelledTexts, build_labelled_texts


@pytest.fixture(scope="module")
def labelled(request: pytest.FixtureRequest) -> LabelledTexts:
    """500 support-bot prompts, 12 % of them about the new topic (seconds to embed, cached)."""
    cache = getattr(request.config, "cache", None)
    cache_dir = cache.mkdir("seismo-embeddings") if cache is not None else None
    return build_labelled_texts(500, cache_dir=cache_dir)


def _majority_share(labels: np.ndarray, members: np.ndarray) -> tuple[int, float]:
    counts = np.bincount(labels[members])
    return int(counts.argmax()), float(counts.max() / members.sum())


def test_the_new_topic_gets_a_cluster_of_its_own(labelled: LabelledTexts) -> None:
    model = TopicModel(n_clusters=8).fit(labelled.vectors)
    labels = model.predict(labelled.vectors)
    new = labelled.topics == NEW_TOPIC
    cluster, share_of_topic = _majority_share(labels, new)
    assert share_of_topic >= 0.9  # the topic is not split
    assert new[labels == cluster].mean() >= 0.95  # and the cluster is not shared


def test_every_old_topic_lives_mostly_in_clusters_of_its_own(labelled: LabelledTexts) -> None:
    labels = TopicModel(n_clusters=8).fit(labelled.vectors).predict(labelled.vectors)
    for topic in np.unique(labelled.topics):
        members = labelled.topics == topic
        cluster, _ = _majority_share(labels, members)
        # The topic's main cluster is dominated by that topic (k = 8 may split a topic).
        assert (labelled.topics[labels == cluster] == topic).mean() >= 0.7, topic


def test_describe_gives_the_new_topics_words_and_central_examples(
    labelled: LabelledTexts,
) -> None:
    model = TopicModel(n_clusters=8).fit(labelled.vectors)
    summaries = model.describe(labelled.vectors, labelled.texts)
    labels = model.predict(labelled.vectors)
    new_cluster, _ = _majority_share(labels, labelled.topics == NEW_TOPIC)
    summary = summaries[new_cluster]
    assert [s.cluster for s in summaries] == list(range(8))
    assert sum(s.size for s in summaries) == len(labelled.texts)
    assert {"tax", "taxable", "crypto"} & set(summary.keywords[:4])
    assert len(summary.examples) == 3 and len(set(summary.examples)) == 3
    members = {labelled.texts[i] for i in np.flatnonzero(labels == new_cluster)}
    assert set(summary.examples) <= members
    # No other cluster is described by the new topic's words.
    for other in summaries:
        if other.cluster != new_cluster:
            assert "taxable" not in other.keywords[:4]


def test_fit_depends_on_the_rows_not_their_order(labelled: LabelledTexts) -> None:
    x = labelled.vectors[:300]
    shuffled = x[np.random.default_rng(1).permutation(len(x))]
    first, second = TopicModel(seed=3).fit(x), TopicModel(seed=3).fit(shuffled)
    np.testing.assert_array_equal(first.centroids, second.centroids)


def test_partial_fit_keeps_each_centre_at_the_running_mean_of_its_rows(
    labelled: LabelledTexts,
) -> None:
    x = labelled.vectors
    model = TopicModel(n_clusters=6).fit(x[:400])
    before, counts = model.centroids, model.counts
    batch = x[400:]
    labels = model.predict(batch)
    model.partial_fit(batch)
    for j in range(6):
        rows = batch[labels == j].astype(np.float64)
        expected = (counts[j] * before[j] + rows.sum(axis=0)) / (counts[j] + len(rows))
        np.testing.assert_allclose(model.centroids[j], expected, rtol=0, atol=1e-12)
    assert model.counts.sum() == len(x)


def _inertia(model: TopicModel, x: np.ndarray) -> float:
    """Mean squared distance of the rows to their assigned centre."""
    return float(((x - model.centroids[model.predict(x)]) ** 2).sum(axis=1).mean())


def test_streaming_updates_keep_cluster_ids_and_fit_new_rows(labelled: LabelledTexts) -> None:
    x = labelled.vectors
    first = TopicModel(n_clusters=8).fit(x[:150])
    streamed = TopicModel(n_clusters=8).fit(x[:150])
    for batch in np.array_split(x[150:], 5):  # five "windows"
        streamed.partial_fit(batch)
    # Ids keep their meaning: rows stay in the cluster they had before the updates ...
    assert (first.predict(x) == streamed.predict(x)).mean() >= 0.9
    # ... while the centres now fit all rows about as well as one fit on all of them.
    assert _inertia(streamed, x) <= _inertia(first, x)
    assert _inertia(streamed, x) <= 1.05 * _inertia(TopicModel(n_clusters=8).fit(x), x)


def test_fewer_distinct_rows_than_clusters_give_one_cluster_each() -> None:
    x = np.repeat(np.eye(3), 5, axis=0)
    model = TopicModel(n_clusters=8).fit(x)
    assert model.centroids.shape == (3, 3)
    assert sorted(np.bincount(model.predict(x)).tolist()) == [5, 5, 5]


def test_settings_and_misuse_are_named() -> None:
    with pytest.raises(ValueError, match=r"^n_clusters\b"):
        TopicModel(n_clusters=0)
    with pytest.raises(ValueError, match=r"^seed\b"):
        TopicModel(seed=-1)
    with pytest.raises(RuntimeError, match="not fitted"):
        TopicModel().predict(np.zeros((2, 3)))
    model = TopicModel(n_clusters=2).fit(np.eye(4))
    with pytest.raises(ValueError, match=r"^x\b"):
        model.predict(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="texts"):
        model.describe(np.eye(4), ["a", "b"])
