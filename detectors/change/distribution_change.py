"""Two-sample change test for positive, skewed per-call values: latency, TTFT, tokens, cost.

Such values are roughly log-normal, and a change in them is multiplicative ("latency went up
50 %"), so the natural scale to compare them on is log(value). Both tests offered here are
rank tests (two-sample Kolmogorov-Smirnov and Mann-Whitney U), and a rank test gives exactly
the same statistic and p-value on ``log(x)`` as on ``x`` because log is strictly increasing.
The test is therefore run on the raw values, which gives the log-scale answer while keeping
zero values (zero tokens, zero cost) that ``log`` could not take. The effect is reported on the
log scale as ``median_ratio`` (window median / reference median).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from detectors._validation import check_alpha, check_int, check_seed
from detectors.change._values import decided, finite_values
from detectors.result import DetectorResult

__all__ = ["DistributionChange"]

Alternative = Literal["two-sided", "increase", "decrease"]
RankTest = Literal["ks", "mannwhitney"]

# scipy's ``alternative`` for (window, reference) in that argument order. KS states it on the
# CDFs: larger window values mean a *lower* window CDF, hence "less" for an increase.
_SCIPY_ALTERNATIVE: dict[str, dict[str, str]] = {
    "ks": {"two-sided": "two-sided", "increase": "less", "decrease": "greater"},
    "mannwhitney": {"two-sided": "two-sided", "increase": "greater", "decrease": "less"},
}

# Exact KS p-values cost up to tens of ms per window for one-sided tests at window sizes in the
# hundreds against a full reservoir (and scipy falls back with a warning at the largest sizes),
# while the asymptotic distribution already agrees to a fraction of a percentage point there.
# So: exact only while the sample-size product is small (scipy's own former cut-off).
_KS_EXACT_MAX_PAIRS = 10_000


class DistributionChange:
    """Has the distribution of a per-call value in the window moved away from the reference?

    Parameters
    ----------
    reference : array_like, 1-D
        Reference values (e.g. latencies of a known-good period). May be empty and filled
        later with :meth:`add_reference`. At most ``reservoir_size`` of them are kept.
    metric : str
        Name of the value, the prefix of the result's ``method``: ``"latency"`` with
        ``test="ks"`` reports ``"latency_ks"``.
    test : {"ks", "mannwhitney"}
        ``"ks"`` (two-sample Kolmogorov-Smirnov) reacts to any change of shape, spread or
        location; ``"mannwhitney"`` (Mann-Whitney U) to a shift of the typical value and is the
        more powerful of the two against a pure shift. On heavily tied values (token counts)
        KS p-values are conservative (fewer alarms than ``alpha``), while Mann-Whitney's tie
        correction keeps its level.
    alpha : float
        Per-window false-alarm rate: the test runs once per window, so over many no-change
        windows a fraction ``alpha`` of them fires. Alert rules that require several firing
        windows in a row lower the alert rate accordingly.
    alternative : {"two-sided", "increase", "decrease"}
        Which change counts: any, only larger values in the window, or only smaller values.
    reservoir_size : int
        Most reference values kept (a uniform random sample of everything passed to the
        constructor and to :meth:`add_reference`, by reservoir sampling). KS and Mann-Whitney
        need the values themselves; a quantile sketch would not do, because its bins are
        coarser than ties in the data and it has no ranks. Once the reference is several
        times larger than a window, more reference values add little power: the power is
        governed by ``n_ref * n_test / (n_ref + n_test)``.
    seed : int or None
        Seed of the reservoir sampling. ``None`` draws fresh entropy.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> detector = DistributionChange(rng.lognormal(6.0, 0.8, 2000), metric="latency", seed=0)
    >>> detector.score(rng.lognormal(6.0, 0.8, 300)).drifted
    False
    >>> result = detector.score(1.5 * rng.lognormal(6.0, 0.8, 300))
    >>> result.method, result.drifted, round(result.params["median_ratio"], 1)
    ('latency_ks', True, 1.5)
    """

    def __init__(
        self,
        reference: ArrayLike,
        *,
        metric: str = "latency",
        test: RankTest = "ks",
        alpha: float = 0.05,
        alternative: Alternative = "two-sided",
        reservoir_size: int = 5000,
        seed: int | None = None,
    ) -> None:
        if not isinstance(metric, str) or not metric:
            raise ValueError(f"metric must be a non-empty string, got {metric!r}")
        if test not in _SCIPY_ALTERNATIVE:
            raise ValueError(f"test must be one of {sorted(_SCIPY_ALTERNATIVE)}, got {test!r}")
        if alternative not in _SCIPY_ALTERNATIVE[test]:
            raise ValueError(
                f"alternative must be one of {sorted(_SCIPY_ALTERNATIVE[test])}, "
                f"got {alternative!r}"
            )
        self.metric = metric
        self.test = test
        self.alpha = check_alpha(alpha)
        self.alternative = alternative
        self.reservoir_size = check_int("reservoir_size", reservoir_size, minimum=1)
        self.seed = check_seed(seed)
        self._reset()
        self._add_reference("reference", reference)

    def _reset(self) -> None:
        """Forget the reference: empty reservoir, nothing seen, sampling restarted from seed."""
        self._reservoir: NDArray[np.float64] = np.empty(0, dtype=np.float64)
        self._n_seen = 0
        self._rng = np.random.default_rng(self.seed)

    @property
    def method(self) -> str:
        """Stable name written to results, e.g. ``"latency_ks"``."""
        return f"{self.metric}_{self.test}"

    @property
    def reference(self) -> NDArray[np.float64]:
        """Read-only copy of the reference values kept (at most ``reservoir_size``)."""
        kept = self._reservoir.copy()
        kept.setflags(write=False)
        return kept

    @property
    def n_reference_seen(self) -> int:
        """How many reference values were offered in total (kept or not)."""
        return self._n_seen

    def add_reference(self, values: ArrayLike) -> None:
        """Offer more reference values; the reservoir stays a uniform sample of all of them.

        Algorithm R: the ``t``-th value offered (0-based) replaces slot ``j ~ U{0..t}`` when
        ``j < reservoir_size``. Done for a whole batch at once, with later values overwriting
        earlier ones in the same slot as the one-at-a-time algorithm would.
        """
        self._add_reference("values", values)

    def _add_reference(self, name: str, values: ArrayLike) -> None:
        offered = finite_values(name, values)
        fill = min(self.reservoir_size - self._reservoir.size, offered.size)
        if fill > 0:
            self._reservoir = np.concatenate([self._reservoir, offered[:fill]])
        rest = offered[fill:]
        if rest.size:
            t = self._n_seen + fill + np.arange(rest.size)
            slots = self._rng.integers(0, t + 1)
            hit = slots < self.reservoir_size
            slots, kept = slots[hit], rest[hit]
            _, from_end = np.unique(slots[::-1], return_index=True)
            last = slots.size - 1 - from_end
            self._reservoir[slots[last]] = kept[last]
        self._n_seen += offered.size

    def score(self, x: ArrayLike) -> DetectorResult:
        """Test the window's values ``x`` (1-D) against the reference.

        Returns a result with ``statistic`` = KS distance D, or for Mann-Whitney the
        normalised ``U / (n_test * n_ref)`` (the probability that a window value exceeds a
        reference value, ties counted half; 0.5 means no shift), ``threshold`` = ``nan`` (the
        decision is ``p_value <= alpha``), and ``params["median_ratio"]``. An empty window or
        reference gives ``drifted=False`` with ``nan`` statistic and p-value and
        ``params["skipped"]`` saying why.
        """
        x = finite_values("x", x)
        ref = self._reservoir
        params: dict[str, object] = {
            "test": self.test,
            "alternative": self.alternative,
            "reservoir_size": self.reservoir_size,
            "n_reference_seen": self._n_seen,
            "seed": self.seed,
        }
        if x.size == 0 or ref.size == 0:
            params["skipped"] = "empty window" if x.size == 0 else "empty reference"
            return self._result(math.nan, math.nan, x.size, params)

        scipy_alt = _SCIPY_ALTERNATIVE[self.test][self.alternative]
        if self.test == "ks":
            exact = x.size * ref.size <= _KS_EXACT_MAX_PAIRS
            res = stats.ks_2samp(
                x, ref, alternative=scipy_alt, method="exact" if exact else "asymp"
            )
            statistic = float(res.statistic)
        else:
            res = stats.mannwhitneyu(x, ref, alternative=scipy_alt)
            statistic = float(res.statistic) / (x.size * ref.size)
        ref_median = float(np.median(ref))
        params["median_ratio"] = float(np.median(x)) / ref_median if ref_median > 0 else math.nan
        return self._result(statistic, float(res.pvalue), x.size, params)

    def _result(
        self, statistic: float, p_value: float, n_test: int, params: dict[str, object]
    ) -> DetectorResult:
        return decided(self.method, statistic, p_value=p_value, alpha=self.alpha,
                       n_ref=self._reservoir.size, n_test=n_test, params=params)

    def __repr__(self) -> str:
        return (
            f"DistributionChange(metric={self.metric!r}, test={self.test!r}, alpha={self.alpha}, "
            f"alternative={self.alternative!r}, reservoir_size={self.reservoir_size}, "
            f"n_ref={self._reservoir.size})"
        )
