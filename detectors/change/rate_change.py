"""Change of a rate (error, refusal, toxicity, PII, negative feedback) against a reference rate.

A window's rate is ``successes / trials`` where a "success" is a call with the flagged outcome
(an error, a refusal, a toxic completion, ...). Two rules can fire, and the result says which:

* ``test``: a test at level ``alpha`` says the window rate differs from the reference rate;
* ``threshold``: the window rate exceeds an absolute ``max_rate`` from configuration
  (a plain comparison, no statistics: it fires even on small windows).
"""

from __future__ import annotations

import math
import numbers
from typing import Literal

from scipy import stats

from detectors._validation import check_alpha, check_int
from detectors.result import DetectorResult

__all__ = ["RateChange"]

Alternative = Literal["increase", "decrease", "two-sided"]
RateTest = Literal["binomial", "wilson", "fisher"]

_TESTS = ("binomial", "wilson", "fisher")
# fisher_exact's alternative for the table [[window], [reference]]: odds ratio > 1 = increase.
_SCIPY_ALTERNATIVE = {"increase": "greater", "decrease": "less", "two-sided": "two-sided"}


class RateChange:
    """Is the rate of a flagged outcome in the window different from the reference rate?

    Parameters
    ----------
    successes, trials : int
        Reference counts: flagged calls and all calls of the reference period. May be 0 and
        accumulated later with :meth:`add_reference`; while ``trials`` is 0 only the
        ``max_rate`` rule can fire.
    metric : str
        Name of the rate, the prefix of the result's ``method``: ``"error_rate_binomial"``.
    test : {"binomial", "wilson", "fisher"}
        ``"binomial"``: exact binomial test of the window count against the reference rate.
        Being discrete it is conservative: its false-alarm rate is at most ``alpha`` and can
        be well below it when the expected count is small.
        ``"wilson"``: the score test, i.e. the window's Wilson score interval at level
        ``alpha`` excludes the reference rate; close to ``alpha`` for expected counts of about
        10 or more, not guaranteed below it.
        Both treat the reference rate as exact, which holds when the reference has many more
        trials than a window; with a small reference (or a reference rate of 0, where a single
        flagged call fires them) use ``"fisher"``: Fisher's exact test of the 2x2 table
        window vs reference, which accounts for the reference's own sampling noise (also
        conservative, and it reports no threshold).
    alpha : float
        Per-window false-alarm rate of the ``test`` rule: the test runs once per window, so over
        many no-change windows about (at most, for the exact tests) a fraction ``alpha`` fires.
    alternative : {"increase", "decrease", "two-sided"}
        Which change the ``test`` rule reports. The default reports increases only, since every
        rate watched here is bad when it goes up.
    max_rate : float or None
        Absolute ceiling: the ``threshold`` rule fires when the window rate exceeds it.

    Examples
    --------
    >>> detector = RateChange(successes=100, trials=10_000, metric="error_rate")
    >>> detector.score(successes=12, trials=1000).drifted
    False
    >>> result = detector.score(successes=50, trials=1000)
    >>> result.method, result.drifted, result.params["rule"], result.statistic
    ('error_rate_binomial', True, 'test', 0.05)
    """

    def __init__(
        self,
        successes: int = 0,
        trials: int = 0,
        *,
        metric: str = "error_rate",
        test: RateTest = "binomial",
        alpha: float = 0.05,
        alternative: Alternative = "increase",
        max_rate: float | None = None,
    ) -> None:
        if not isinstance(metric, str) or not metric:
            raise ValueError(f"metric must be a non-empty string, got {metric!r}")
        if test not in _TESTS:
            raise ValueError(f"test must be one of {list(_TESTS)}, got {test!r}")
        if alternative not in _SCIPY_ALTERNATIVE:
            raise ValueError(
                f"alternative must be one of {list(_SCIPY_ALTERNATIVE)}, got {alternative!r}"
            )
        if max_rate is not None and (
            isinstance(max_rate, bool)
            or not isinstance(max_rate, numbers.Real)
            or not 0.0 <= max_rate < 1.0
        ):
            raise ValueError(f"max_rate must be None or a number in [0, 1), got {max_rate!r}")
        self.metric = metric
        self.test = test
        self.alpha = check_alpha(alpha)
        self.alternative = alternative
        self.max_rate = None if max_rate is None else float(max_rate)
        self._reset()
        self.add_reference(successes, trials)

    def _reset(self) -> None:
        """Forget the reference counts."""
        self._ref_successes = 0
        self._ref_trials = 0

    @property
    def method(self) -> str:
        """Stable name written to results, e.g. ``"error_rate_binomial"``."""
        return f"{self.metric}_{self.test}"

    @property
    def reference_rate(self) -> float:
        """Reference successes / trials (``nan`` without reference trials)."""
        return self._ref_successes / self._ref_trials if self._ref_trials else math.nan

    def add_reference(self, successes: int, trials: int) -> None:
        """Add counts to the reference (e.g. one more known-good window)."""
        successes, trials = _check_counts(successes, trials)
        self._ref_successes += successes
        self._ref_trials += trials

    def score(self, successes: int, trials: int) -> DetectorResult:
        """Judge one window's counts.

        The result's ``statistic`` is the window rate and ``threshold`` the critical rate of
        the test: for ``"increase"`` the test fires exactly when the rate is above it, for
        ``"decrease"`` exactly when it is below it (``nan`` for two-sided and Fisher tests,
        which report a p-value only). ``params`` carry the counts, the reference rate,
        ``max_rate`` and ``rule``: which rule fired, ``"test"``, ``"threshold"``, ``"both"``
        or ``"none"``. A window with no trials fires nothing.
        """
        successes, trials = _check_counts(successes, trials)
        rate = successes / trials if trials else math.nan
        if trials and self._ref_trials:
            p_value, threshold = self._test(successes, trials)
        else:
            p_value, threshold = math.nan, math.nan
        test_fired = bool(p_value <= self.alpha)  # False for nan
        threshold_fired = self.max_rate is not None and bool(rate > self.max_rate)
        rule = {(True, True): "both", (True, False): "test", (False, True): "threshold"}.get(
            (test_fired, threshold_fired), "none"
        )
        return DetectorResult(
            method=self.method,
            statistic=rate,
            p_value=p_value,
            threshold=threshold,
            drifted=test_fired or threshold_fired,
            n_ref=self._ref_trials,
            n_test=trials,
            alpha=self.alpha,
            params={
                "test": self.test,
                "alternative": self.alternative,
                "reference_rate": self.reference_rate,
                "ref_successes": self._ref_successes,
                "ref_trials": self._ref_trials,
                "successes": successes,
                "trials": trials,
                "max_rate": self.max_rate,
                "rule": rule,
                # The exact binomial p of "the rate is at most max_rate": what a sequential
                # rule accumulates when the user set an objective instead of the reference.
                "objective_p_value": (
                    float(stats.binom.sf(successes - 1, trials, self.max_rate))
                    if self.max_rate is not None and trials else math.nan
                ),
            },
        )

    def _test(self, k: int, n: int) -> tuple[float, float]:
        """(p-value, critical rate) of the configured test for ``k`` of ``n``."""
        if self.test == "fisher":
            table = [[k, n - k], [self._ref_successes, self._ref_trials - self._ref_successes]]
            res = stats.fisher_exact(table, alternative=_SCIPY_ALTERNATIVE[self.alternative])
            return float(res.pvalue), math.nan
        p0 = self.reference_rate
        if self.test == "binomial":
            return _binomial(k, n, p0, self.alpha, self.alternative)
        return _score(k, n, p0, self.alpha, self.alternative)

    def __repr__(self) -> str:
        return (
            f"RateChange(metric={self.metric!r}, test={self.test!r}, alpha={self.alpha}, "
            f"alternative={self.alternative!r}, max_rate={self.max_rate}, "
            f"reference={self._ref_successes}/{self._ref_trials})"
        )


def _check_counts(successes: int, trials: int) -> tuple[int, int]:
    trials = check_int("trials", trials, minimum=0)
    successes = check_int("successes", successes, minimum=0)
    if successes > trials:
        raise ValueError(f"successes ({successes}) must not exceed trials ({trials})")
    return successes, trials


def _binomial(k: int, n: int, p0: float, alpha: float, alternative: str) -> tuple[float, float]:
    """Exact binomial test; the critical rate comes from the same tail function as the p-value.

    increase: ``p = P(X >= k)``; the largest count that does not fire is ``isf(alpha)``
    (the smallest ``c`` with ``P(X > c) <= alpha``), so the test fires iff ``k/n > c/n``.
    decrease: ``p = P(X <= k)``; the smallest count that does not fire is the smallest ``c``
    with ``P(X <= c) > alpha``, so the test fires iff ``k/n < c/n``.
    """
    dist = stats.binom(n, p0)
    if alternative == "increase":
        return float(dist.sf(k - 1)), float(dist.isf(alpha)) / n
    if alternative == "decrease":
        c = int(dist.ppf(alpha))
        if dist.cdf(c) <= alpha:
            c += 1
        return float(dist.cdf(k)), c / n
    return float(stats.binomtest(k, n, p0, alternative="two-sided").pvalue), math.nan


def _score(k: int, n: int, p0: float, alpha: float, alternative: str) -> tuple[float, float]:
    """Score test ``z = (k/n - p0) / sqrt(p0 (1 - p0) / n)``, the inversion of Wilson's interval.

    With ``p0`` of 0 or 1 the standard error is 0 and any difference is infinitely significant.
    """
    se = math.sqrt(p0 * (1.0 - p0) / n)
    diff = k / n - p0
    z = diff / se if se > 0 else math.copysign(math.inf, diff) if diff else 0.0
    z_alpha = float(stats.norm.isf(alpha))
    if alternative == "increase":
        return float(stats.norm.sf(z)), p0 + z_alpha * se
    if alternative == "decrease":
        return float(stats.norm.cdf(z)), p0 - z_alpha * se
    return float(2.0 * stats.norm.sf(abs(z))), math.nan
