"""Topics of a stream: k-means clusters of its sentence embeddings, described by words.

How many clusters: a fixed ``n_clusters`` (default 8), not a number chosen per sample.
Cluster ids are only comparable over time, and a cluster-share test only has a stable number
of degrees of freedom, while k stays put; and k-means with a few more clusters than the
stream has topics leaves room for a topic that appears later to take a cluster of its own
(splitting a big topic in two costs nothing in a share test: both halves keep their share).
Eight is a few more than the topics of one typical LLM feature and still leaves about 25
rows per cluster in a 200-row window. Set it per stream when that is a poor guess.

Fitting is Lloyd's k-means with k-means++ starts (scikit-learn's ``KMeans``), best of
``n_init`` by inertia. :meth:`TopicModel.fit` is a function of the *set* of rows, not of
their order (rows are put in a canonical order first), which is what lets a cluster-share
test fit its partition on a pooled sample and keep an exact permutation null
(:mod:`detectors.drift.cluster_share`). :meth:`TopicModel.partial_fit` then moves the centres with
each new batch by mini-batch k-means updates (Sculley 2010): every centre is the running mean
of the rows assigned to it, so existing topics can drift slowly; a topic that is new gets
the nearest existing cluster until the model is fitted again.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

from detectors._validation import check_int, check_sample, check_seed
from detectors.topics.keywords import class_tfidf

__all__ = ["ClusterSummary", "TopicModel"]


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    """What one cluster is about.

    Attributes
    ----------
    cluster : int
        The cluster id (row of :attr:`TopicModel.centroids`).
    size : int
        How many of the described rows fall in it.
    keywords : tuple of str
        Its top c-TF-IDF words, best first (:func:`detectors.topics.keywords.class_tfidf`).
    examples : tuple of str
        Distinct member texts closest to the centroid, closest first.
    """

    cluster: int
    size: int
    keywords: tuple[str, ...]
    examples: tuple[str, ...]


class TopicModel:
    """k-means clusters of embeddings: fit, update in mini-batches, assign, describe.

    Parameters
    ----------
    n_clusters : int, default 8
        Number of clusters k (see the module notes for why it is fixed). A sample with fewer
        distinct rows gets one cluster per distinct row.
    n_init : int, default 3
        k-means++ starts; the fit with the lowest inertia is kept.
    max_iter : int, default 100
        Lloyd iterations per start.
    seed : int or None, default 0
        Seed of the k-means++ starts; ``None`` for fresh entropy.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> blobs = np.concatenate([rng.normal(c, 0.1, size=(50, 2)) for c in (0.0, 5.0)])
    >>> model = TopicModel(n_clusters=2).fit(blobs)
    >>> sorted(np.bincount(model.predict(blobs)).tolist())
    [50, 50]
    >>> model.partial_fit(rng.normal(5.0, 0.1, size=(10, 2))).counts.tolist()
    [50, 60]
    """

    def __init__(
        self, n_clusters: int = 8, *, n_init: int = 3, max_iter: int = 100, seed: int | None = 0
    ) -> None:
        self.n_clusters = check_int("n_clusters", n_clusters, minimum=1)
        self.n_init = check_int("n_init", n_init, minimum=1)
        self.max_iter = check_int("max_iter", max_iter, minimum=1)
        self.seed = check_seed(seed)
        self._reset()

    def _reset(self) -> None:
        """Forget the clusters."""
        self._centroids: NDArray[np.float64] | None = None
        self._counts: NDArray[np.int64] | None = None

    @property
    def fitted(self) -> bool:
        return self._centroids is not None

    @property
    def centroids(self) -> NDArray[np.float64]:
        """Cluster centres, shape (k, d), read-only copy."""
        centroids = self._fitted_centroids().copy()
        centroids.setflags(write=False)
        return centroids

    @property
    def counts(self) -> NDArray[np.int64]:
        """Rows assigned to each cluster so far (by :meth:`fit` and :meth:`partial_fit`)."""
        self._fitted_centroids()
        assert self._counts is not None
        return self._counts.copy()

    def fit(self, x: NDArray) -> TopicModel:
        """Cluster the rows of ``x`` (shape (n, d)) afresh; the result ignores row order."""
        x = check_sample("x", x, min_rows=1)
        ordered = x[canonical_order(x)]
        k = min(self.n_clusters, _n_distinct_sorted(ordered))
        # One thread (OpenMP and BLAS): on samples of a few thousand rows a thread team gains
        # little, and on a busy host its spin-waiting made a fit 5-10x slower (measured on a
        # loaded two-core machine, 700 x 384 rows: 0.04 s on one thread, 0.3 s on two).
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            # Duplicated rows can leave k-means with fewer distinct centres than k; the
            # empty clusters then simply get no rows, which every consumer handles.
            warnings.simplefilter("ignore", ConvergenceWarning)
            kmeans = KMeans(k, n_init=self.n_init, max_iter=self.max_iter,
                            random_state=self.seed).fit(ordered)
        self._centroids = np.asarray(kmeans.cluster_centers_, dtype=np.float64)
        self._counts = np.bincount(kmeans.labels_, minlength=k).astype(np.int64)
        return self

    def partial_fit(self, x: NDArray) -> TopicModel:
        """Move each centre to the running mean of the rows assigned to it, ``x`` included.

        The first call on an unfitted model is :meth:`fit`.
        """
        if not self.fitted:
            return self.fit(x)
        labels = self.predict(x)
        x = np.asarray(x, dtype=np.float64)
        assert self._centroids is not None and self._counts is not None
        k = self._centroids.shape[0]
        batch = np.bincount(labels, minlength=k).astype(np.int64)
        sums = np.zeros_like(self._centroids)
        np.add.at(sums, labels, x)
        self._counts += batch
        hit = batch > 0
        # c += (sum - n_b c) / n_total: the exact running mean, Sculley's per-centre step 1/n.
        self._centroids[hit] += (
            sums[hit] - batch[hit, None] * self._centroids[hit]
        ) / self._counts[hit, None]
        return self

    def predict(self, x: NDArray) -> NDArray[np.intp]:
        """Index of the nearest centre (Euclidean) for each row of ``x``."""
        centroids = self._fitted_centroids()
        x = check_sample("x", x, min_rows=0, n_features=centroids.shape[1])
        if x.shape[0] == 0:
            return np.zeros(0, dtype=np.intp)
        # ||x - c||² up to the ||x||² every centre shares.
        distance = (centroids * centroids).sum(axis=1) - 2.0 * x @ centroids.T
        return np.argmin(distance, axis=1).astype(np.intp)

    def describe(
        self,
        x: NDArray,
        texts: Sequence[str],
        *,
        n_keywords: int = 8,
        n_examples: int = 3,
    ) -> list[ClusterSummary]:
        """Keywords and example texts of every cluster, from rows ``x`` and their ``texts``.

        Keywords are the c-TF-IDF words of each cluster's texts against the others'; the
        examples are the distinct texts of the rows closest to the centre.
        """
        centroids = self._fitted_centroids()
        n_examples = check_int("n_examples", n_examples, minimum=0)
        x = check_sample("x", x, min_rows=0, n_features=centroids.shape[1])
        if len(texts) != x.shape[0]:
            raise ValueError(f"texts has {len(texts)} items but x has {x.shape[0]} rows")
        labels = self.predict(x)
        k = centroids.shape[0]
        keywords = class_tfidf(texts, labels, k, top_n=n_keywords)
        summaries = []
        for cluster in range(k):
            members = np.flatnonzero(labels == cluster)
            distance = np.linalg.norm(x[members] - centroids[cluster], axis=1)
            examples: list[str] = []
            for i in members[np.argsort(distance, kind="stable")]:
                if len(examples) == n_examples:
                    break
                if texts[i] not in examples:
                    examples.append(texts[i])
            summaries.append(ClusterSummary(
                cluster=cluster, size=int(members.size),
                keywords=tuple(w for w, _ in keywords[cluster]), examples=tuple(examples),
            ))
        return summaries

    def _fitted_centroids(self) -> NDArray[np.float64]:
        if self._centroids is None:
            raise RuntimeError("TopicModel is not fitted: call fit() or partial_fit() first")
        return self._centroids

    def __repr__(self) -> str:
        state = f"k={self._centroids.shape[0]}" if self._centroids is not None else "unfitted"
        return (f"TopicModel(n_clusters={self.n_clusters}, n_init={self.n_init}, "
                f"max_iter={self.max_iter}, seed={self.seed}, {state})")


def canonical_order(x: NDArray) -> NDArray[np.intp]:
    """An order of the rows of ``x`` that depends on their values only, not on their positions.

    Rows are sorted by a fixed random projection: identical rows tie (and are
    interchangeable), distinct rows tie with probability zero. Cheaper than a
    lexicographic sort of all columns by an order of magnitude.
    """
    direction = np.random.default_rng(0x5E15).standard_normal(x.shape[1])
    return np.argsort(x @ direction, kind="stable")


def _n_distinct_sorted(ordered: NDArray) -> int:
    """Distinct rows of an array in canonical order (identical rows are adjacent)."""
    if ordered.shape[0] == 0:
        return 0
    changes = np.any(ordered[1:] != ordered[:-1], axis=1)
    return 1 + int(np.count_nonzero(changes))
