"""Have the topics' shares changed? A chi-square test of cluster counts, window vs. reference.

Rows of the reference (n) and of the window (m) are assigned to k clusters; the test asks
whether the two samples spread over the clusters alike. The statistic is Pearson's
chi-square of the 2 x k contingency table (reference / window x cluster):

``X² = N² / (n m) · Σ_j (w_j - m c_j / N)² / c_j``

with ``w_j`` the window's count in cluster j, ``c_j`` the pooled count and ``N = n + m``.

Why a two-sample table and not "window counts against the reference shares": the
reference shares are themselves estimated from n rows. Treating them as known inflates the
statistic's variance by about ``1 + m / n`` and, for a 200-row window against a 500-row
reference, raises the false-alarm rate from 5 % to about 12 %.

Where the clusters come from: by default the partition is fitted on the *pooled* sample
(reference and window together, rows in a canonical order), so it is a function of the pooled
set of rows only. Under "no change" the rows are exchangeable, so every split of the pooled
rows into n reference and m window rows is equally likely *given the partition*, and the
window's counts follow the multivariate hypergeometric distribution with the pooled cluster
counts. Fitting on the pooled rows also lets a new topic in the window form a cluster of its
own, which is what makes the named cluster readable. A partition fitted on the reference
alone would not be exchangeable (its clusters are tuned to the reference's own rows) and
would hide a new topic inside the nearest old one.

The p-value (``null=``):

* ``"chi2"``: Pearson's test, ``X²`` against the chi-square distribution with
  ``(occupied clusters - 1)`` degrees of freedom — the limit of the hypergeometric null above,
  so it holds given the partition too. Used when every expected count of the 2 x k table
  (``n c_j / N`` and ``m c_j / N``) is at least 5, Cochran's rule for that limit.
* ``"permutation"``: the Monte-Carlo permutation p-value ``(1 + #{X²_b >= X²}) / (1 + B)``
  over B draws from the hypergeometric null itself. Exact at any sample size, so it is what
  a table with sparse cells gets.
* ``"auto"`` (default): chi-square when the table is large enough, otherwise the permutation
  p-value. ``params["null"]`` says which one decided.

With the worker's samples (a 500-row reference, a 200-row window, k = 8) nearly every table
is large enough, and the chi-square p-value costs nothing; a small window, or a partition with
a cluster of a handful of rows, falls back to the exact test instead of the approximation.

A partition may also be given (``topics=``): valid when it was fitted on data independent
of both samples, or on a superset that contains both samples whole (the report fits one
model on all sampled rows of a time range and tests each window against the reference).

Which clusters changed: the adjusted standardized residual of each window cell,
``r_j = (w_j - E_j) / sqrt(E_j (1 - m / N) (1 - c_j / N))`` with ``E_j = m c_j / N``,
is about N(0, 1) per cell under no change. Clusters with ``|r_j|`` above the two-sided
Bonferroni cut ``z_{1 - alpha / (2k)}`` are named in ``params["grew"]`` / ``["shrank"]``,
largest effect first. These names describe the change; the decision is the test above.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from detectors._validation import check_int
from detectors.drift._two_sample import TwoSampleDrift, check_n_resamples
from detectors.result import DetectorResult
from detectors.topics.clustering import TopicModel

__all__ = ["ClusterShareDrift"]

NULLS = ("auto", "chi2", "permutation")
# Cochran's rule: the chi-square limit is used only when every expected count is at least 5.
MIN_EXPECTED = 5.0


class ClusterShareDrift(TwoSampleDrift):
    """Has the mix of topics in the window moved away from the reference's?

    Parameters
    ----------
    reference : ndarray of shape (n, d)
        Reference embeddings, ``n >= 2``; copied.
    n_clusters : int, default 8
        Clusters of the partition fitted per window
        (:class:`~detectors.topics.clustering.TopicModel`).
    alpha : float, default 0.05
        Significance level of the decision.
    n_permutations : int, default 999
        Draws B of the permutation null (used by ``null="permutation"``, and by ``"auto"`` on
        sparse tables); must allow ``1 / (B + 1) <= alpha``.
    null : {"auto", "chi2", "permutation"}, default "auto"
        Where the p-value comes from (see the module notes).
    n_init : int, default 1
        k-means++ starts of the per-window partition. The test is exact for any partition,
        so more starts only buy power; one start already gave a new topic its own cluster
        on sentence embeddings (see ``tests/detectors/drift/test_cluster_share.py``) at a third of
        the cost of three.
    seed : int or None, default 0
        Seed of the k-means starts and of the permutation draws; a window's result depends
        on ``(seed, window size)`` and the data only. ``None``: fresh draws.
    topics : TopicModel or None, default None
        A fitted partition to use instead of fitting one on the pooled sample per window
        (see the module notes for when that keeps the test exact).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> centres = rng.normal(size=(3, 8)) * 4
    >>> def draw(n, shares):
    ...     topic = rng.choice(3, size=n, p=shares)
    ...     return centres[topic] + rng.normal(size=(n, 8))
    >>> detector = ClusterShareDrift(draw(300, [0.5, 0.3, 0.2]), n_clusters=3, seed=1)
    >>> detector.score(draw(150, [0.5, 0.3, 0.2])).drifted
    False
    >>> result = detector.score(draw(150, [0.2, 0.3, 0.5]))
    >>> result.drifted, len(result.params["grew"]), len(result.params["shrank"])
    (True, 1, 1)
    """

    method = "cluster_share"
    _resamples_argument = "n_permutations"

    def __init__(
        self,
        reference: NDArray,
        *,
        n_clusters: int = 8,
        alpha: float = 0.05,
        n_permutations: int = 999,
        n_init: int = 1,
        seed: int | None = 0,
        topics: TopicModel | None = None,
        null: str = "auto",
    ) -> None:
        super().__init__(reference, alpha=alpha, seed=seed)
        self.n_clusters = check_int("n_clusters", n_clusters, minimum=1)
        self.n_permutations = check_n_resamples("n_permutations", n_permutations, self.alpha)
        if null not in NULLS:
            raise ValueError(f"null must be one of {', '.join(NULLS)}, got {null!r}")
        self.null = null
        self.n_init = check_int("n_init", n_init, minimum=1)
        if topics is not None:
            if not isinstance(topics, TopicModel) or not topics.fitted:
                raise ValueError(f"topics must be a fitted TopicModel, got {topics!r}")
            if topics.centroids.shape[1] != self._reference.shape[1]:
                raise ValueError(
                    f"topics has {topics.centroids.shape[1]} features but the reference has "
                    f"{self._reference.shape[1]}"
                )
        self.topics = topics
        self._reset()

    def _reset(self) -> None:
        # Nothing is derived ahead of a window: the partition depends on the window too.
        pass

    def fit_partition(self, x: NDArray) -> TopicModel:
        """The partition :meth:`score` uses for window ``x``: ``topics`` or a pooled fit."""
        if self.topics is not None:
            return self.topics
        x = self._check_window(x)
        model_seed = None if self.seed is None else int(self._rng(x.shape[0], 0).integers(2**31))
        return TopicModel(self.n_clusters, n_init=self.n_init, seed=model_seed).fit(
            np.concatenate([self._reference, x])
        )

    def score(self, x: NDArray) -> DetectorResult:
        """Chi-square test of the window ``x`` (shape (m, d)) against the reference.

        Returns
        -------
        DetectorResult
            ``statistic`` is Pearson's X² of the 2 x k table, ``threshold`` its ``(1 - alpha)``
            quantile under the null used; ``params`` holds per cluster the reference and
            window shares and the adjusted residual, and the clusters that grew or shrank.
        """
        x = self._check_window(x)
        return self.score_partition(x, self.fit_partition(x))

    def score_partition(self, x: NDArray, partition: TopicModel) -> DetectorResult:
        """:meth:`score` on a partition already fitted by :meth:`fit_partition` for ``x``.

        For callers that also describe the partition (keywords of the clusters that grew),
        so it is fitted once. Any other partition voids the exactness argument above.
        """
        x = self._check_window(x)
        k = partition.centroids.shape[0]
        ref_counts = np.bincount(partition.predict(self._reference), minlength=k)
        window_counts = np.bincount(partition.predict(x), minlength=k)
        n, m = int(ref_counts.sum()), int(window_counts.sum())
        pooled = ref_counts + window_counts
        occupied = pooled > 0  # a cluster no row of either sample uses adds nothing
        # The smallest expected count of the 2 x k table is in the smaller sample's row.
        min_expected = min(n, m) * float(pooled[occupied].min()) / (n + m)
        null = self.null
        if null == "auto":
            null = "chi2" if min_expected >= MIN_EXPECTED else "permutation"
        residuals = _adjusted_residuals(window_counts, pooled, n, m)
        df = int(occupied.sum()) - 1
        params = self._params(ref_counts, window_counts, residuals, df)
        params.update(null=null, min_expected=min_expected)
        if null == "chi2":
            statistic = float(_chi_square(window_counts[occupied], pooled[occupied], n, m))
            return self._chi2_result(statistic, df, m, params)
        draws = self._rng(m, 1).multivariate_hypergeometric(
            pooled[occupied], m, size=self.n_permutations
        )
        # Observed and null through the same expression, so equal tables give equal floats.
        chi2 = _chi_square(np.vstack([window_counts[occupied], draws]), pooled[occupied], n, m)
        return self._result(
            method=self.method,
            statistic=float(chi2[0]),
            sorted_null=np.sort(chi2[1:]),
            n_test=m,
            params=params,
        )

    def _chi2_result(
        self, statistic: float, df: int, m: int, params: dict[str, Any]
    ) -> DetectorResult:
        """The decision from the chi-square distribution with ``df`` degrees of freedom."""
        # One occupied cluster: both samples are all in it, nothing can differ.
        p_value = float(stats.chi2.sf(statistic, df)) if df > 0 else 1.0
        threshold = float(stats.chi2.isf(self.alpha, df)) if df > 0 else float("inf")
        return DetectorResult(
            method=self.method, statistic=statistic, p_value=p_value, threshold=threshold,
            drifted=bool(p_value <= self.alpha), n_ref=int(self._reference.shape[0]),
            n_test=m, alpha=self.alpha, params=params,
        )

    def _params(
        self, ref_counts: NDArray, window_counts: NDArray, residuals: NDArray, df: int
    ) -> dict[str, Any]:
        k = ref_counts.shape[0]
        cut = float(stats.norm.isf(self.alpha / (2 * k)))
        grew = [j for j in np.argsort(-residuals, kind="stable") if residuals[j] > cut]
        shrank = [j for j in np.argsort(residuals, kind="stable") if residuals[j] < -cut]
        n, m = max(int(ref_counts.sum()), 1), max(int(window_counts.sum()), 1)
        return {
            "n_clusters": k,
            "df": max(df, 0),
            "partition": "given" if self.topics is not None else "pooled",
            "n_permutations": self.n_permutations,
            "seed": self.seed,
            "residual_cut": cut,
            "clusters": [
                {"cluster": j, "reference_share": float(ref_counts[j] / n),
                 "window_share": float(window_counts[j] / m), "residual": float(residuals[j])}
                for j in range(k)
            ],
            "grew": [int(j) for j in grew],
            "shrank": [int(j) for j in shrank],
        }


def _chi_square(window_counts: NDArray, pooled: NDArray, n: int, m: int) -> NDArray[np.float64]:
    """Pearson's X² of the 2 x k table for each row of window counts (pooled counts > 0)."""
    total = n + m
    expected = m * pooled / total
    deviation = window_counts - expected
    return (total * total / (n * m)) * (deviation * deviation / pooled).sum(axis=-1)


def _adjusted_residuals(
    window_counts: NDArray, pooled: NDArray, n: int, m: int
) -> NDArray[np.float64]:
    """Haberman's adjusted residuals of the window row; 0 for a cluster nobody uses."""
    total = n + m
    expected = m * pooled / total
    variance = expected * (n / total) * (1.0 - pooled / total)
    with np.errstate(divide="ignore", invalid="ignore"):
        residual = (window_counts - expected) / np.sqrt(variance)
    return np.where(variance > 0, residual, 0.0)
