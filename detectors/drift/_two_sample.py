"""Shared skeleton of the resampling two-sample detectors (reference vs. window).

Subclasses compute numbers (the observed statistic and its null distribution); this base turns
them into a :class:`~detectors.result.DetectorResult` with one decision rule, so every
two-sample detector reports the same shape and ``p_value``, ``threshold`` and ``drifted`` can
never disagree:

* ``p = (1 + #{null >= observed}) / (1 + B)``: the observed statistic counts as one draw of
  the null, so ``p`` is never 0 and a permutation test keeps level ``alpha`` for any ``B``;
* ``drifted = p <= alpha``;
* ``threshold`` is the ``(1 - alpha)`` quantile of the null, taken as the order statistic
  ``T_(B + 1 - k)`` with ``k = #{j in 1..B+1 : j / (B + 1) <= alpha}``, which makes
  ``statistic > threshold`` equivalent to ``p <= alpha``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from detectors._validation import check_alpha, check_int, check_sample, check_seed
from detectors.result import DetectorResult


def n_rejectable(n_resamples: int, alpha: float) -> int:
    """How many attainable p-values ``j / (B + 1)``, ``j = 1..B+1``, are ``<= alpha``.

    Evaluated with the same floating-point expression as the p-value itself, so the threshold
    and the decision agree even when ``alpha * (B + 1)`` is an integer.
    """
    attainable = (1.0 + np.arange(n_resamples + 1)) / (1.0 + n_resamples)
    return int(np.count_nonzero(attainable <= alpha))


def check_n_resamples(name: str, value: int, alpha: float) -> int:
    """Permutation/bootstrap count: an int large enough that ``p <= alpha`` can happen.

    The smallest attainable p-value is ``1 / (B + 1)``; with fewer draws the test could never
    reject, which would silently switch the detector off.
    """
    value = check_int(name, value, minimum=1)
    if n_rejectable(value, alpha) == 0:
        raise ValueError(
            f"{name}={value} can never reject at alpha={alpha}: the smallest p-value is "
            f"1/({name}+1); use at least {int(np.ceil(1.0 / alpha)) - 1}"
        )
    return value


def tail_p_value(null: NDArray[np.floating], observed: float) -> float:
    """An approximate p-value below ``1/(B+1)`` for a statistic beyond every resample.

    A permutation p-value cannot go below ``1/(B+1)``, so a sequential detector held to a tiny
    false-alarm level could never page on one window however large the change. This fits a
    shifted gamma (Pearson type III) to the null's mean, variance and skewness, which
    Gretton et al. (2009) found close for MMD's null, and reads the tail at ``observed``; a
    null with no right skew falls back to the normal tail. It is reported next to the exact
    p-value (``params["tail_p_value"]``), never in its place, and never above ``1/(B+1)``.
    """
    values = np.asarray(null, dtype=np.float64)
    floor = 1.0 / (1.0 + values.size)
    mean, sd = float(values.mean()), float(values.std())
    if not sd > 0:
        return floor if observed <= mean else 0.0
    skew = float(stats.skew(values))
    if skew > 1e-3:
        shape, scale = 4.0 / skew**2, sd * skew / 2.0
        tail = float(stats.gamma.sf(observed - (mean - shape * scale), shape, scale=scale))
    else:
        tail = float(stats.norm.sf((observed - mean) / sd))
    return min(tail, floor)


class TwoSampleDrift(ABC):
    """Base of detectors that test a window sample against a fixed reference sample.

    Settings are public attributes validated in ``__init__``; everything derived from them and
    from the reference (bandwidths, kernel blocks, cached null distributions) is private and
    rebuilt by :meth:`_reset`, which is also what unpickling calls, so pickles carry the
    settings and the reference only.
    """

    #: smallest window size the statistic is defined for
    _min_test_rows: int = 1
    #: the subclass's name for the number of resamples (``n_permutations``, ``n_bootstrap``)
    _resamples_argument: ClassVar[str]

    def __init__(self, reference: NDArray, *, alpha: float, seed: int | None) -> None:
        self.alpha = check_alpha(alpha)
        self.seed = check_seed(seed)
        ref = np.array(check_sample("reference", reference, min_rows=2), copy=True)
        ref.setflags(write=False)
        self._reference = ref

    @classmethod
    def create(
        cls, reference: NDArray, *, alpha: float, n_resamples: int, seed: int | None,
        **params: Any,
    ) -> Self:
        """The registry's uniform factory (:data:`detectors.registry.DRIFT_TESTS`): the settings
        every two-sample test has, whatever the subclass calls its resample count, plus the
        subclass's own ``params``."""
        return cls(reference, alpha=alpha, seed=seed, **{cls._resamples_argument: n_resamples},
                   **params)

    @property
    def reference(self) -> NDArray[np.float64]:
        """The reference sample, shape (n, d), float64, read-only."""
        return self._reference

    @abstractmethod
    def _reset(self) -> None:
        """Rebuild all private derived state from the settings and the reference."""

    @abstractmethod
    def score(self, x: NDArray) -> DetectorResult:
        """Test the window sample ``x`` (shape (m, d)) against the reference."""

    def _check_window(self, x: NDArray) -> NDArray[np.float64]:
        return check_sample(
            "x", x, min_rows=self._min_test_rows, n_features=self._reference.shape[1]
        )

    def _rng(self, *salt: int) -> np.random.Generator:
        """A new generator per use, drawn from ``(seed, *salt)``.

        With a seed, a result depends only on its inputs, never on what was scored before.
        """
        if self.seed is None:
            return np.random.default_rng()
        return np.random.default_rng([self.seed, *salt])

    def _result(
        self,
        *,
        method: str,
        statistic: float,
        sorted_null: NDArray[np.floating],
        n_test: int,
        params: dict[str, Any],
        comparable_statistic: float | None = None,
    ) -> DetectorResult:
        """The shared decision: p-value, threshold and ``drifted`` from one null sample.

        ``comparable_statistic`` is the observed statistic computed exactly like the null
        values (same precision), when that differs from the reported ``statistic``.
        """
        observed = statistic if comparable_statistic is None else comparable_statistic
        b = int(sorted_null.shape[0])
        n_at_least = b - int(np.searchsorted(sorted_null, observed, side="left"))
        k = n_rejectable(b, self.alpha)
        p = (1.0 + n_at_least) / (1.0 + b)
        if n_at_least == 0:  # beyond the permutations' resolution: say how far, approximately
            params = {**params, "tail_p_value": tail_p_value(sorted_null, observed)}
        return DetectorResult(
            method=method,
            statistic=float(statistic),
            p_value=p,
            threshold=float(sorted_null[b - k]) if k > 0 else float("inf"),
            drifted=bool(p <= self.alpha),
            n_ref=int(self._reference.shape[0]),
            n_test=int(n_test),
            alpha=self.alpha,
            params=params,
        )

    def __getstate__(self) -> dict[str, Any]:
        # Settings (public) and the reference travel; caches are rebuilt on load.
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        state["_reference"] = self._reference
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reference.setflags(write=False)
        self._reset()

    def __repr__(self) -> str:
        n, d = self._reference.shape
        settings = ", ".join(
            f"{k}={v!r}" for k, v in self.__dict__.items() if not k.startswith("_")
        )
        return f"{type(self).__name__}(reference=<{n}x{d}>, {settings})"
