"""Distance between the reference centroid and the window centroid, with a bootstrap null."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from detectors._validation import check_int
from detectors.drift._two_sample import TwoSampleDrift, check_n_resamples
from detectors.result import DetectorResult

__all__ = ["CentroidDrift"]

Metric = Literal["euclidean", "cosine"]
_METRICS: tuple[Metric, ...] = ("euclidean", "cosine")

# Bootstrap indices drawn at once (32 MiB of int64): bounds memory, not a statistical setting.
_DRAWS_PER_CHUNK = 1 << 22


class CentroidDrift(TwoSampleDrift):
    """Has the mean embedding moved? Centroid distance tested against a two-sided bootstrap.

    The statistic is the distance between the reference centroid (mean of n rows) and the
    window centroid (mean of m rows): Euclidean ``||c_R - c_X||`` or cosine
    ``1 - <c_R, c_X> / (||c_R|| ||c_X||)``.

    The null distribution is the distance between the centroids of an n-sample and an
    m-sample, both drawn with replacement from the reference. Both sides are resampled
    because the observed distance compares two *estimated* centroids: resampling only the
    m-sample against the fixed reference centroid would leave out the reference's own
    sampling noise, understate the null spread and raise false alarms. The null depends on
    the reference and m only, so it is computed once per window size and cached.

    The cosine distance also depends on where the centroids sit relative to the origin, and
    the reference centroid overstates the length of the true mean ``mu``:
    ``E||c_R||² = ||mu||² + tr(Sigma) / n``. Bootstrap centroids are therefore re-centred on
    ``c_R`` shrunk to the unbiased length ``sqrt(max(0, ||c_R||² - tr(Sigma_hat) / n))``.
    Without this, data whose mean is small next to its noise (``||mu||² ~ tr(Sigma) / n``)
    get a null that is far too narrow and alarm on most windows; with it, the false-alarm
    rate stays at or below ``alpha`` (for Euclidean distance, a shift, the centre is moot).

    When ``n`` is smaller than the dimension the bootstrap null is somewhat wider than the
    true one (the resamples live in the ``n - 1``-dimensional span of the reference), so the
    test errs on the side of fewer alarms; the tests in ``tests/detectors`` measure both the
    false-alarm rate and the power on sentence embeddings.

    Parameters
    ----------
    reference : ndarray of shape (n, d)
        Reference sample, ``n >= 2``; copied.
    metric : {"euclidean", "cosine"}, default "euclidean"
        Distance between centroids. Cosine ignores the centroid's length, which for
        normalised sentence embeddings mostly reflects how spread the topics are.
    alpha : float, default 0.05
        Significance level of the decision.
    n_bootstrap : int, default 500
        Number of bootstrap pairs ``B``; must allow ``1 / (B + 1) <= alpha``.
    seed : int or None, default 0
        Seed of the bootstrap; the null for window size m is drawn from ``(seed, m)``, so a
        result does not depend on the order windows arrive in. ``None``: fresh draws.
    cache_size : int, default 16
        How many window sizes keep their bootstrap null (least recently used are dropped;
        time-based windows vary in size, so the cache must be bounded). 0 disables it.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> detector = CentroidDrift(rng.normal(size=(300, 8)), metric="euclidean", seed=1)
    >>> detector.score(rng.normal(size=(100, 8))).drifted
    False
    >>> detector.score(rng.normal(loc=0.5, size=(100, 8))).drifted
    True
    """

    _resamples_argument = "n_bootstrap"

    def __init__(
        self,
        reference: NDArray,
        *,
        metric: Metric = "euclidean",
        alpha: float = 0.05,
        n_bootstrap: int = 500,
        seed: int | None = 0,
        cache_size: int = 16,
    ) -> None:
        super().__init__(reference, alpha=alpha, seed=seed)
        if metric not in _METRICS:
            raise ValueError(f"metric must be one of {_METRICS}, got {metric!r}")
        self.metric: Metric = metric
        self.n_bootstrap = check_n_resamples("n_bootstrap", n_bootstrap, self.alpha)
        self.cache_size = check_int("cache_size", cache_size, minimum=0)
        self._reset()

    @property
    def method(self) -> str:
        """``"centroid_euclidean"`` or ``"centroid_cosine"``."""
        return f"centroid_{self.metric}"

    def _reset(self) -> None:
        ref = self._reference
        n = ref.shape[0]
        self._centroid = ref.mean(axis=0)
        length2 = float(self._centroid @ self._centroid)
        if self.metric == "cosine" and not length2 > 0.0:
            raise ValueError("reference: centroid is the zero vector, cosine distance undefined")
        self._centred = ref - self._centroid
        noise2 = float(ref.var(axis=0, ddof=1).sum()) / n  # estimates E||c_R - mu||²
        shrink = np.sqrt(max(0.0, length2 - noise2) / length2) if length2 > 0.0 else 0.0
        self._null_centre = shrink * self._centroid
        self._null_cache: OrderedDict[int, NDArray[np.float64]] = OrderedDict()

    def score(self, x: NDArray) -> DetectorResult:
        """Bootstrap test of the window ``x`` (shape (m, d)) against the reference.

        Returns
        -------
        DetectorResult
            ``statistic`` is the centroid distance, ``threshold`` the ``(1 - alpha)``
            quantile of the bootstrap null for this window size.
        """
        x = self._check_window(x)
        window_centroid = x.mean(axis=0)
        if self.metric == "cosine" and not np.linalg.norm(window_centroid) > 0.0:
            raise ValueError("x: centroid is the zero vector, cosine distance undefined")
        statistic = float(
            _distances(self._centroid[None, :], window_centroid[None, :], self.metric)[0]
        )
        m = x.shape[0]
        return self._result(
            method=self.method,
            statistic=statistic,
            sorted_null=self._null(m),
            n_test=m,
            params=self._params(),
        )

    def _null(self, m: int) -> NDArray[np.float64]:
        """Sorted bootstrap null for window size ``m`` (cached, LRU)."""
        null = self._null_cache.get(m)
        if null is not None:
            self._null_cache.move_to_end(m)
            return null
        null = np.sort(self._bootstrap(m))
        if self.cache_size:
            self._null_cache[m] = null
            while len(self._null_cache) > self.cache_size:
                self._null_cache.popitem(last=False)
        return null

    def _bootstrap(self, m: int) -> NDArray[np.float64]:
        """``B`` distances between centroids of an n- and an m-sample drawn from the reference.

        A resampled centroid's deviation from ``c_R`` is ``(counts / size) @ (R - c_R)``,
        where ``counts`` holds how often each reference row was drawn; stacking the count rows
        of all ``2B`` resamples turns the whole bootstrap into one matrix product.
        """
        n = self._centred.shape[0]
        rng = self._rng(m)
        weights = np.vstack(
            [
                _resample_weights(rng, self.n_bootstrap, n, n),
                _resample_weights(rng, self.n_bootstrap, n, m),
            ]
        )
        centroids = weights @ self._centred + self._null_centre
        return _distances(centroids[: self.n_bootstrap], centroids[self.n_bootstrap :], self.metric)

    def _params(self) -> dict[str, Any]:
        return {"metric": self.metric, "n_bootstrap": self.n_bootstrap, "seed": self.seed}


def _resample_weights(rng: np.random.Generator, b: int, n: int, size: int) -> NDArray:
    """``b`` rows of ``counts / size`` for ``size`` draws with replacement from ``n`` items.

    Row ``i``'s draws are offset by ``i * n`` so one ``bincount`` counts all rows at once;
    rows are processed in chunks so a large window never needs ``b * size`` indices at once.
    """
    counts = np.empty((b, n))
    rows_per_chunk = max(1, _DRAWS_PER_CHUNK // size)
    for start in range(0, b, rows_per_chunk):
        rows = min(rows_per_chunk, b - start)
        draws = rng.integers(0, n, size=(rows, size)) + n * np.arange(rows)[:, None]
        chunk = np.bincount(draws.ravel(), minlength=rows * n)
        counts[start : start + rows] = chunk.reshape(rows, n)
    return counts / size


def _distances(a: NDArray, b: NDArray, metric: Metric) -> NDArray[np.float64]:
    """Row-wise distance between centroids ``a[i]`` and ``b[i]``."""
    if metric == "euclidean":
        return np.linalg.norm(a - b, axis=1)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    # A bootstrap centroid of exactly zero length is not a realistic event; keep it finite.
    cosine = np.einsum("ij,ij->i", a, b) / np.maximum(norms, np.finfo(np.float64).tiny)
    return 1.0 - cosine
