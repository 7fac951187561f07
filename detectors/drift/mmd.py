"""Maximum Mean Discrepancy two-sample test with a permutation p-value."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.drift._two_sample import TwoSampleDrift, check_n_resamples
from detectors.drift.kernels import pairwise_sq_dists, rbf_from_sq_dists, sigma_from_sq_dists
from detectors.result import DetectorResult

__all__ = ["MMDDrift"]


class MMDDrift(TwoSampleDrift):
    """Kernel two-sample test: unbiased MMD² with a Gaussian RBF kernel and permutations.

    The statistic is the unbiased estimate of the squared Maximum Mean Discrepancy between
    the reference ``R`` (n rows) and the window ``X`` (m rows)::

        MMD² = sum_{i!=j} k(r_i, r_j) / (n(n-1)) + sum_{i!=j} k(x_i, x_j) / (m(m-1))
               - 2 sum_{i,j} k(r_i, x_j) / (nm)

    with ``k(a, b) = exp(-||a - b||² / (2 sigma²))``. Unless given, ``sigma`` comes from the
    median heuristic on the reference (``sigma² = median off-diagonal squared distance / 2``,
    see :mod:`detectors.drift.kernels`), computed once here so every window is measured with the
    same ruler. Under "no change" ``R`` and ``X`` are exchangeable, so re-splitting the pooled
    sample at random gives the exact null distribution: ``p = (1 + #{perm >= observed}) /
    (1 + B)`` has level ``alpha`` for any ``B``.

    Parameters
    ----------
    reference : ndarray of shape (n, d)
        Reference sample, ``n >= 2``; copied.
    alpha : float, default 0.05
        Significance level of the decision.
    n_permutations : int, default 500
        Number of random re-splits ``B``; must allow ``1 / (B + 1) <= alpha``.
    sigma : float, optional
        Fixed kernel bandwidth, e.g. to compare with another implementation at the same
        ``sigma``; ``None`` uses the median heuristic on the reference.
    seed : int or None, default 0
        Seed of the permutations. With an int, ``score`` is a pure function of its input (the
        same window always gets the same p-value); ``None`` draws fresh permutations per call.

    Notes
    -----
    All ``B`` permutations are evaluated with one matrix product. With ``s`` the 0/1
    membership vector of the first (reference-sized) group and ``K0`` the pooled kernel
    matrix of ``[R; X]`` with zero diagonal, the three sums are ``sᵀK0s``,
    ``(1-s)ᵀK0(1-s) = 1ᵀK0 1 - 2 sᵀK0 1 + sᵀK0s`` and ``sᵀK0(1-s) = sᵀK0 1 - sᵀK0s``, so
    stacking the memberships into ``S`` (B × N) needs only ``S @ K0``, done in float32. The
    observed split is evaluated on that same float32 matrix for the comparison (so rounding
    treats it like every permutation) while the reported statistic is computed in float64;
    the decision follows the p-value. The reference block of ``K0`` is computed once and
    cached (``4 n²`` bytes), and with a seed the re-splits for the last window size are kept
    (they would be drawn identically anyway).

    A test costs ``O(B (n + m)²)`` time and ``4 (n + m)² + 4 B (n + m)`` bytes; keep windows
    and references to a few thousand rows (the pipeline samples large windows).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> detector = MMDDrift(rng.normal(size=(200, 8)), n_permutations=200, seed=1)
    >>> detector.score(rng.normal(size=(100, 8))).drifted
    False
    >>> detector.score(rng.normal(loc=0.5, size=(100, 8))).drifted
    True
    """

    method = "mmd"
    _resamples_argument = "n_permutations"
    # the within-window sum is divided by m(m-1)
    _min_test_rows = 2

    def __init__(
        self,
        reference: NDArray,
        *,
        alpha: float = 0.05,
        n_permutations: int = 500,
        sigma: float | None = None,
        seed: int | None = 0,
    ) -> None:
        super().__init__(reference, alpha=alpha, seed=seed)
        self.n_permutations = check_n_resamples("n_permutations", n_permutations, self.alpha)
        if sigma is not None and (
            isinstance(sigma, bool)
            or not isinstance(sigma, numbers.Real)
            or not 0.0 < sigma < np.inf
        ):
            raise ValueError(f"sigma must be None or a finite number > 0, got {sigma!r}")
        self.sigma = None if sigma is None else float(sigma)
        self._reset()

    def _reset(self) -> None:
        sq_dists = pairwise_sq_dists(self._reference)
        self._bandwidth = self.sigma if self.sigma is not None else sigma_from_sq_dists(sq_dists)
        k_rr = rbf_from_sq_dists(sq_dists, self._bandwidth)
        np.fill_diagonal(k_rr, 0.0)
        self._k_rr_sum = float(k_rr.sum())
        self._k_rr32 = k_rr.astype(np.float32)
        self._last_memberships: NDArray[np.float32] | None = None

    def _memberships(self, size: int) -> NDArray[np.float32]:
        """Row 0: the observed split; rows 1..B: random re-splits of ``size`` pooled rows.

        With a seed the re-splits are the same on every call, so the last matrix is kept
        and reused while the window size stays the same (drawing them is ~20% of a test).
        """
        n = self._reference.shape[0]
        cached = self._last_memberships
        if cached is not None and cached.shape[1] == size:
            return cached
        memberships = np.empty((self.n_permutations + 1, size), dtype=np.float32)
        memberships[0, :n] = 1.0
        memberships[0, n:] = 0.0
        memberships[1:] = _random_memberships(self._rng(), self.n_permutations, size, n)
        if self.seed is not None:
            self._last_memberships = memberships
        return memberships

    @property
    def bandwidth(self) -> float:
        """The kernel bandwidth ``sigma`` in use (``sigma`` or the median heuristic)."""
        return self._bandwidth

    def score(self, x: NDArray) -> DetectorResult:
        """Permutation test of the window ``x`` (shape (m, d), ``m >= 2``) against the reference.

        Returns
        -------
        DetectorResult
            ``statistic`` is the unbiased MMD² (may be slightly negative under no change),
            ``threshold`` the ``(1 - alpha)`` quantile of the permutation distribution.
        """
        x = self._check_window(x)
        ref = self._reference
        n, m = ref.shape[0], x.shape[0]
        k_rx = rbf_from_sq_dists(pairwise_sq_dists(ref, x), self._bandwidth)
        k_xx = rbf_from_sq_dists(pairwise_sq_dists(x), self._bandwidth)
        np.fill_diagonal(k_xx, 0.0)
        statistic = _unbiased_mmd2(self._k_rr_sum, float(k_xx.sum()), float(k_rx.sum()), n, m)

        pooled = np.empty((n + m, n + m), dtype=np.float32)
        pooled[:n, :n] = self._k_rr32
        pooled[:n, n:] = k_rx
        pooled[n:, :n] = k_rx.T
        pooled[n:, n:] = k_xx

        stats = _split_mmd2(pooled, self._memberships(n + m), n, m)
        observed_split, null = stats[0], np.sort(stats[1:])

        return self._result(
            method=self.method,
            statistic=statistic,
            sorted_null=null,
            n_test=m,
            params=self._params(),
            comparable_statistic=float(observed_split),
        )

    def _params(self) -> dict[str, Any]:
        return {
            "kernel": "rbf",
            "sigma": self._bandwidth,
            "sigma_source": "fixed" if self.sigma is not None else "median_heuristic",
            "n_permutations": self.n_permutations,
            "seed": self.seed,
        }


def _unbiased_mmd2(sum_rr: float, sum_xx: float, sum_rx: float, n: int, m: int) -> float:
    """Unbiased MMD² from the off-diagonal within-sample sums and the cross-sample sum."""
    return sum_rr / (n * (n - 1)) + sum_xx / (m * (m - 1)) - 2.0 * sum_rx / (n * m)


def _random_memberships(rng: np.random.Generator, b: int, size: int, k: int) -> NDArray:
    """``b`` rows of 0/1 float32, each with exactly ``k`` ones at uniformly random positions.

    The ``k`` smallest of ``size`` i.i.d. uniform keys form a uniform random ``k``-subset;
    ``np.partition`` finds them in linear time, unlike a full shuffle or argsort per row.
    Rows whose k-th key is tied (probability ~ size² / 2⁵³) are redrawn to stay exact.
    """
    keys = rng.random((b, size))
    kth = np.partition(keys, k - 1, axis=1)[:, k - 1 : k]
    rows = keys <= kth
    bad = np.flatnonzero(np.count_nonzero(rows, axis=1) != k)
    while bad.size:
        rows[bad] = _random_memberships(rng, bad.size, size, k).astype(bool)
        bad = np.flatnonzero(np.count_nonzero(rows, axis=1) != k)
    return rows.astype(np.float32)


def _split_mmd2(pooled: NDArray, memberships: NDArray, n: int, m: int) -> NDArray:
    """Unbiased MMD² for every split ``s`` (row of ``memberships``) of the pooled sample.

    Only the product ``S @ K0`` runs in float32 (it is the O(B N²) part); the O(B N) sums
    after it are taken in float64 so that no further rounding separates the splits.
    """
    products = memberships @ pooled  # (B, N): sᵀK0 for every split
    # sᵀK0s sums products over the members of s; multiplying by 0/1 is exact in float32
    within_first = (products * memberships).sum(axis=1, dtype=np.float64)
    first_total = products.sum(axis=1, dtype=np.float64)  # sᵀK0 1
    total = pooled.sum(dtype=np.float64)  # 1ᵀK0 1
    cross = first_total - within_first  # sᵀK0(1-s)
    within_second = total - 2.0 * first_total + within_first  # (1-s)ᵀK0(1-s)
    return within_first / (n * (n - 1)) + within_second / (m * (m - 1)) - 2.0 * cross / (n * m)
