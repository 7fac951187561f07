"""Topics of the period: clusters with keywords, their shares per window, a 2-D picture.

One :class:`~detectors.TopicModel` is fitted on every sampled row of the app in the period
(references and windows together), so cluster ids mean the same in every window and every
stream, and a topic that only appears later gets a cluster of its own. Each window is then
tested against its stream's reference with :class:`~detectors.ClusterShareDrift` on that
partition: the partition is a function of a set that holds both samples whole, which keeps
the test's null valid (a chi-square p-value, exact permutation p-value when clusters are
sparse; see :mod:`detectors.drift.cluster_share`).

The projection is UMAP when ``umap-learn`` is installed, else Fisher's discriminant of the
clusters (:mod:`streams.report.projection`): either way a new topic shows as an island of
late-window points. PCA fitted on the reference, the worker's projection for Grafana, puts a
new topic in the middle of the old ones (numbers in :mod:`detectors.topics.projection`).

Keywords and examples are taken from the texts without the lines that many chat prompts
repeat (system messages, :func:`~detectors.topics.keywords.drop_boilerplate`); the embeddings are
the stored ones, of the whole prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from detectors.drift.cluster_share import ClusterShareDrift
from detectors.result import DetectorResult
from detectors.topics.clustering import ClusterSummary, TopicModel
from detectors.topics.keywords import drop_boilerplate
from streams.report.data import Sample, Stream
from streams.report.explain import ClusterExplainer
from streams.report.projection import Picture, project
from streams.settings import DriftSettings


@dataclass(frozen=True)
class WindowTest:
    """The cluster-share test of one window of one stream."""

    stream: Stream
    window_start: datetime
    result: DetectorResult


@dataclass(frozen=True)
class Topics:
    clusters: list[ClusterSummary]
    texts: list[str]  # the sample's texts without repeated system-prompt lines
    labels: NDArray[np.intp]  # cluster of each sample row
    picture: Picture  # 2-D coordinates of each sample row, and how they were made
    reference_shares: NDArray[np.float64]  # share of each cluster in all reference rows
    tests: list[WindowTest]
    explanations: dict[int, str] = field(default_factory=dict)  # cluster -> one sentence

    def window_shares(self, sample: Sample) -> dict[tuple[Stream, datetime], NDArray]:
        """Share of each cluster in each tested window (reference windows left out)."""
        k = len(self.clusters)
        return {key: np.bincount(self.labels[rows], minlength=k) / len(rows)
                for key, rows in window_groups(sample).items()}


def window_groups(sample: Sample) -> dict[tuple[Stream, datetime], list[int]]:
    """Row indices of each (stream, window) outside the references, in time order."""
    groups: dict[tuple[Stream, datetime], list[int]] = {}
    for i, key in enumerate(zip(sample.streams, sample.window_starts, strict=True)):
        if not sample.is_reference[i]:
            groups.setdefault(key, []).append(i)
    return dict(sorted(groups.items(), key=lambda item: (item[0][1], item[0][0])))


def analyse_topics(
    sample: Sample,
    drift: DriftSettings | None = None,
    *,
    n_clusters: int | None = None,
    use_umap: bool = True,
    explainer: ClusterExplainer | None = None,
) -> Topics | None:
    """Cluster, describe, project and test the sample; ``None`` when it is too small.

    The clusters, test level, permutations, smallest tested window and seed are the worker's
    (the ``drift`` section, its defaults when None), so the report tests as the worker does;
    ``n_clusters`` overrides ``drift_clusters``. ``explainer``, when given, is asked for a
    sentence per cluster (see :mod:`streams.report.explain`).
    """
    drift = drift or DriftSettings()
    min_rows, seed = drift.min_window_events, drift.drift_seed
    if len(sample) < max(min_rows, 2):
        return None
    model = TopicModel(n_clusters or drift.drift_clusters, seed=seed).fit(sample.vectors)
    labels = model.predict(sample.vectors)
    texts = drop_boilerplate(sample.texts)
    clusters = model.describe(sample.vectors, texts)
    picture = project(sample.vectors, labels, seed=seed, use_umap=use_umap)
    k = model.centroids.shape[0]
    reference_labels = labels[sample.is_reference]
    reference_shares = (np.bincount(reference_labels, minlength=k) / max(len(reference_labels), 1))
    tests = _window_tests(sample, model, drift)
    explanations = explainer.explain(clusters) if explainer is not None else {}
    return Topics(clusters, texts, labels, picture, reference_shares, tests, explanations)


def _window_tests(sample: Sample, model: TopicModel, drift: DriftSettings) -> list[WindowTest]:
    min_rows = drift.min_window_events
    streams = np.array(sample.streams, dtype=object)
    detectors: dict[Stream, ClusterShareDrift | None] = {}
    tests = []
    for (stream, start), rows in window_groups(sample).items():
        if stream not in detectors:
            reference = sample.vectors[(streams == stream) & sample.is_reference]
            detectors[stream] = ClusterShareDrift(
                reference, topics=model, alpha=drift.drift_alpha,
                n_permutations=drift.drift_permutations, seed=drift.drift_seed,
            ) if len(reference) >= min_rows else None
        detector = detectors[stream]
        if detector is not None and len(rows) >= min_rows:
            tests.append(WindowTest(stream, start, detector.score(sample.vectors[rows])))
    return tests
