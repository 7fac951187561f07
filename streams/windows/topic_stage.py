"""Topics of a stream key's embedded sample: clusters, a 2-D projection, the cluster-share test.

Per stream key and field, :class:`ReferenceTopics` is fitted on the reference sample the
window job reads from ClickHouse: a :class:`~detectors.TopicModel` (k-means, seeded) whose
cluster of every stored row goes to ``embeddings.cluster``, and a principal-component
projection (:class:`~detectors.IncrementalProjection`) whose coordinates go to
``embeddings.x`` / ``.y`` for Grafana's XY chart. Both are fitted once per reference and only
applied to windows, so a cluster id and the axes keep their meaning while the reference
holds. Both are deterministic functions of the stored reference sample, so a restarted worker
that reads the same sample rebuilds the same model: nothing here is state of its own.

The cluster-share test of a window (:class:`~detectors.ClusterShareDrift`) does *not* use the
reference's clusters: it fits its partition on the reference and the window pooled, which
keeps its p-value honest and gives a new topic a cluster of its own (a model fitted on the
reference has no cluster for a topic it never saw, and files it under the nearest old one).
Ids of that per-window partition mean nothing outside the window, so the clusters that grew
or shrank are named by their keywords (class-based TF-IDF over the pooled texts) and an
example prompt, stored in ``drift.changed_clusters`` and in the row's params.

The projection is PCA of the reference, as the topics issue asks: the axes along which the
reference varies most. A new topic is mostly orthogonal to those and lands near the middle
of the picture (numbers in :mod:`detectors.topics.projection`); the report's projection is the
picture for finding one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors import ClusterShareDrift, DetectorResult, IncrementalProjection, TopicModel
from detectors.topics.clustering import ClusterSummary
from detectors.topics.keywords import drop_boilerplate
from streams.settings import DriftSettings

# Keywords kept per cluster in a drift row (the report and Grafana show three).
ROW_KEYWORDS = 5
SUMMARY_KEYWORDS = 3
EXAMPLE_CHARS = 160


@dataclass(frozen=True, slots=True)
class Placement:
    """Cluster and projected coordinates of each row of a sample (what ``embeddings`` gets)."""

    cluster: NDArray[np.int16]
    xy: NDArray[np.float32]  # shape (rows, 2)

    @classmethod
    def unplaced(cls, rows: int) -> Placement:
        """No model yet: cluster -1 and NaN coordinates, the columns' defaults."""
        return cls(np.full(rows, -1, dtype=np.int16), np.full((rows, 2), np.nan, np.float32))


class ReferenceTopics:
    """The topic model, projection and cluster-share detector of one reference sample.

    Parameters
    ----------
    vectors : ndarray of shape (n, d)
        The reference sample's embeddings.
    texts : sequence of str
        Their texts (keywords of the clusters that change are drawn from them).
    settings : DriftSettings
        The drift section: clusters (``drift_clusters``), test level (``drift_alpha``),
        permutations (``drift_permutations``) and seed (``drift_seed``).
    """

    def __init__(
        self, vectors: NDArray, texts: Sequence[str], settings: DriftSettings
    ) -> None:
        if len(texts) != len(vectors):
            raise ValueError(f"texts has {len(texts)} items but vectors has {len(vectors)} rows")
        self.settings = settings
        self.model = TopicModel(settings.drift_clusters, seed=settings.drift_seed).fit(vectors)
        self.projection = IncrementalProjection(2).fit(vectors)
        self.detector = ClusterShareDrift(
            vectors, n_clusters=settings.drift_clusters, alpha=settings.drift_alpha,
            n_permutations=settings.drift_permutations, seed=settings.drift_seed,
        )
        self._texts = drop_boilerplate(list(texts))

    def place(self, vectors: NDArray) -> Placement:
        """Cluster (of the reference's model) and 2-D coordinates of each row."""
        if len(vectors) == 0:
            return Placement.unplaced(0)
        xy = np.zeros((len(vectors), 2), dtype=np.float32)
        projected = self.projection.transform(vectors)
        xy[:, : projected.shape[1]] = projected  # a reference of one distinct row has 1 axis
        return Placement(self.model.predict(vectors).astype(np.int16), xy)

    def test(self, vectors: NDArray, texts: Sequence[str]) -> DetectorResult:
        """The window's cluster-share test; changed clusters are named by their keywords.

        ``params["clusters"]`` gains each cluster's keywords, the changed ones an example, and
        ``params["changed_clusters"]`` one readable line (empty unless the window drifted).
        """
        partition = self.detector.fit_partition(vectors)
        result = self.detector.score_partition(vectors, partition)
        window_texts = drop_boilerplate(list(texts))
        reference = self.detector.reference
        pooled = np.concatenate([reference, np.asarray(vectors, dtype=np.float64)])
        describe = partial(partition.describe, n_keywords=ROW_KEYWORDS, n_examples=1)
        # A cluster that grew is what the window brought, so it is named from the window's rows
        # in it; one that shrank from the reference's. Named from both, a new topic that k-means
        # put beside a few old rows took those rows' more repetitive words.
        summaries = {
            "pooled": describe(pooled, [*self._texts, *window_texts]),
            "grew": describe(vectors, window_texts),
            "shrank": describe(reference, self._texts),
        }
        params = _named(result.params, summaries, result.drifted)
        return DetectorResult(
            method=result.method, statistic=result.statistic, p_value=result.p_value,
            threshold=result.threshold, drifted=result.drifted, n_ref=result.n_ref,
            n_test=result.n_test, alpha=result.alpha, params=params,
        )


def _named(
    params: dict[str, Any], summaries: dict[str, list[ClusterSummary]], drifted: bool
) -> dict[str, Any]:
    """``params`` with keywords per cluster, an example per changed one, and a summary line
    (only when the test decided "changed": a cluster's residual alone decides nothing)."""
    side = {j: key for key in ("grew", "shrank") for j in params[key]}
    clusters = []
    for entry in params["clusters"]:
        j = entry["cluster"]
        summary = summaries[side.get(j, "pooled")][j]
        named = {**entry, "keywords": list(summary.keywords)}
        if j in side and summary.examples:
            named["example"] = _clip(summary.examples[0])
        clusters.append(named)
    lines = [
        f"{key}: " + "; ".join(_describe(clusters[j]) for j in params[key])
        for key in ("grew", "shrank") if params[key] and drifted
    ]
    return {**params, "clusters": clusters, "changed_clusters": " | ".join(lines)}


def _describe(cluster: dict[str, Any]) -> str:
    """``tax · crypto · gains 0.0% → 27.5%``."""
    words = " · ".join(cluster["keywords"][:SUMMARY_KEYWORDS]) or f"cluster {cluster['cluster']}"
    return f"{words} {cluster['reference_share']:.1%} → {cluster['window_share']:.1%}"


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"
