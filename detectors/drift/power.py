"""How large a change a window of ``m`` events can detect: the minimum detectable effect (MDE).

The effect is a *mixture fraction*: the window is drawn from ``(1 - eps) P + eps Q``, with
``P`` the reference distribution and ``Q`` a held-out shift, and the MDE is the smallest
``eps`` that a level-``alpha`` test detects with probability ``power`` (0.8 by default). A
window whose MDE is above the configured minimum effect cannot tell "no drift" from "a change
we would care about" and gets the verdict ``insufficient_data`` instead of ``no_drift``.

Two bounds, and the MDE is the larger:

* **Separable shift** (:func:`separable_shift_mde`, data-free, exact): even when ``Q`` is a
  topic perfectly separated from the reference, a permutation test sees it only through the
  ``K ~ Binomial(m, eps)`` window events drawn from it. Given ``K`` such events among the
  ``n + m`` pooled ones, the chance that all of them fall into the window under "no change"
  is ``C(m, K) / C(n + m, K)``; the test can reject only when that is ``<= alpha``, i.e.
  ``K >= k*``, so no permutation test has power above ``P(Binomial(m, eps) >= k*)``. This is
  what makes 10 events insufficient whatever the statistic: with ``n = 500`` and
  ``alpha = 0.01`` it needs ``eps >= 0.27`` for two hits. A test on ``m`` events may always
  drop events, so the bound is taken as its running minimum over ``m' <= m`` (monotone in m).
* **The held-out far slice of the reference** (:class:`PowerCalibration`, the realistic one):
  the reference is split along its first principal direction; the farthest
  ``far_fraction`` of it plays ``Q`` and the rest ``P``. The centroid statistic's squared
  distance ``T = ||c_X - c_R||²`` has, with ``s = 1/n + 1/m``, null mean ``s tr(S)`` and
  standard deviation ``s sqrt(2 tr(S²))``; under the mixture its mean grows by
  ``eps² ||delta||²`` and its variance by ``4 eps² s delta' S delta`` (``delta`` the slice's
  mean shift, ``S`` the covariance of the rest). Power ``power`` at level ``alpha`` in this
  normal approximation (Bai & Saranadasa 1996) is a quadratic in ``eps²``, solved in closed
  form: constant time per window once the reference is calibrated (one Gram matrix).

Why not simulate the detectors themselves: one MMD permutation test at n = m = 500 costs
about 0.2 s, and a power curve needs hundreds per window size; the two bounds above cost
microseconds per window, and ``bench/power.py`` prints them against the simulated power of
the real detectors so the approximation is checked where it is cheap to check. The MDE is the
same for every method of a window (a property of the sample sizes and the reference), which
keeps one number per field and window on the dashboard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from detectors._validation import check_alpha, check_int, check_sample
from detectors.result import DRIFT, INSUFFICIENT_DATA, NO_DRIFT, VERDICTS

__all__ = [
    "DRIFT", "INSUFFICIENT_DATA", "NO_DRIFT", "VERDICTS", "PowerCalibration",
    "separable_shift_mde", "verdict",
]

#: the conventional power of a sample-size calculation
DEFAULT_POWER = 0.8
#: the share of the reference held out as the far slice: far enough to be a distinct topic,
#: large enough that its mean shift is estimated from tens of rows
DEFAULT_FAR_FRACTION = 0.2


def _check_probability(name: str, value: float) -> float:
    if isinstance(value, bool) or not 0.0 < float(value) < 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
    return float(value)


def _min_hits(n_ref: int, sizes: NDArray[np.int64], alpha: float) -> NDArray[np.int64]:
    """``k*`` per window size: fewest window-only events a permutation test can reject on."""
    k_max = int(sizes.max())
    i = np.arange(k_max)
    hits = np.full(sizes.shape, k_max + 1, dtype=np.int64)
    for j, m in enumerate(sizes):
        # log C(m, K) / C(n + m, K) = sum_{i < K} log((m - i) / (n + m - i)), decreasing in K
        terms = np.log(np.maximum(m - i[:m], 1e-300)) - np.log(n_ref + m - i[:m])
        reached = np.flatnonzero(np.cumsum(terms) <= math.log(alpha))
        if reached.size:
            hits[j] = reached[0] + 1
    return hits


def separable_shift_mde(
    n_ref: int, n_window: int, alpha: float, power: float = DEFAULT_POWER
) -> float:
    """Smallest mixture fraction of a perfectly separated shift any permutation test detects.

    ``1.0`` when not even a window made wholly of the shift reaches ``power``.

    >>> round(separable_shift_mde(500, 10, 0.01), 3)
    0.271
    >>> separable_shift_mde(500, 500, 0.01) < 0.03
    True
    """
    n_ref = check_int("n_ref", n_ref, minimum=1)
    n_window = check_int("n_window", n_window, minimum=1)
    alpha, power = check_alpha(alpha), _check_probability("power", power)
    sizes = np.arange(1, n_window + 1, dtype=np.int64)
    hits = _min_hits(n_ref, sizes, alpha)
    ok = hits <= sizes
    if not ok.any():
        return 1.0
    # P(Binomial(m, eps) >= k) is the Beta(k, m - k + 1) CDF at eps: invert it directly.
    eps = stats.beta.ppf(power, hits[ok], sizes[ok] - hits[ok] + 1)
    return float(min(1.0, eps.min()))


@dataclass(frozen=True, slots=True)
class PowerCalibration:
    """A reference's far-slice moments, from which :meth:`mde` is computed per window size.

    Attributes
    ----------
    n_ref : int
        Reference size the windows are tested against.
    shift2 : float
        ``||delta||²``, squared mean shift of the far slice from the rest.
    shift_var : float
        ``delta' S delta``, the spread of the rest along the shift.
    trace : float
        ``tr(S)``.
    trace2 : float
        Unbiased estimate of ``tr(S²)`` (Bai & Saranadasa), the null spread of ``T``.
    """

    n_ref: int
    shift2: float
    shift_var: float
    trace: float
    trace2: float

    @classmethod
    def from_reference(
        cls, reference: NDArray, far_fraction: float = DEFAULT_FAR_FRACTION
    ) -> PowerCalibration:
        """Split ``reference`` (n, d) along its first principal direction and measure.

        >>> import numpy as np
        >>> ref = np.random.default_rng(0).normal(size=(500, 16))
        >>> cal = PowerCalibration.from_reference(ref)
        >>> cal.mde(500, 0.01) < cal.mde(50, 0.01) < cal.mde(10, 0.01)
        True
        """
        ref = np.asarray(check_sample("reference", reference, min_rows=10), dtype=np.float64)
        far_fraction = _check_probability("far_fraction", far_fraction)
        centred = ref - ref.mean(axis=0)
        # first right singular vector = first principal direction
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        scores = centred @ vt[0]
        n = ref.shape[0]
        n_far = max(2, int(round(far_fraction * n)))
        order = np.argsort(scores)
        far, rest = ref[order[-n_far:]], ref[order[:-n_far]]
        delta = far.mean(axis=0) - rest.mean(axis=0)
        rest_c = rest - rest.mean(axis=0)
        k = rest.shape[0]
        gram = rest_c @ rest_c.T / (k - 1)
        trace = float(np.trace(gram))
        # plug-in tr(S²) is biased up by ~tr(S)²/k when d ~ k; Bai & Saranadasa's correction
        trace2_plugin = float(np.sum(gram * gram))
        trace2 = (k - 1) ** 2 / ((k - 2) * (k + 1)) * (trace2_plugin - trace**2 / (k - 1))
        projected = rest_c @ delta
        return cls(
            n_ref=n,
            shift2=float(delta @ delta),
            shift_var=float(projected @ projected) / (k - 1),
            trace=trace,
            trace2=max(trace2, trace2_plugin / k),
        )

    def held_out_mde(self, n_window: int, alpha: float, power: float = DEFAULT_POWER) -> float:
        """The far-slice bound alone (normal approximation of the centroid test)."""
        m = check_int("n_window", n_window, minimum=1)
        alpha, power = check_alpha(alpha), _check_probability("power", power)
        if not self.shift2 > 0.0:
            return 1.0
        s = 1.0 / self.n_ref + 1.0 / m
        z_a, z_b = stats.norm.ppf(1.0 - alpha), stats.norm.ppf(power)
        c = math.sqrt(2.0 * self.trace2)
        a, b = self.shift2, self.shift_var
        # a x - z_a c s >= z_b sqrt(c² s² + 4 b s x), x = eps²: the larger root of
        # a² x² - (2 a z_a c s + 4 z_b² b s) x + (z_a² - z_b²) c² s² = 0
        lin = 2.0 * a * z_a * c * s + 4.0 * z_b**2 * b * s
        const = (z_a**2 - z_b**2) * c**2 * s**2
        disc = max(lin**2 - 4.0 * a**2 * const, 0.0)
        x = (lin + math.sqrt(disc)) / (2.0 * a**2)
        return float(min(1.0, math.sqrt(max(x, 0.0))))

    def mde(self, n_window: int, alpha: float, power: float = DEFAULT_POWER) -> float:
        """Minimum detectable mixture fraction for a window of ``n_window`` events."""
        return max(self.held_out_mde(n_window, alpha, power),
                   separable_shift_mde(self.n_ref, n_window, alpha, power))


def verdict(drifted: bool, min_detectable_effect: float, min_effect: float) -> str:
    """``drift`` on a rejection (valid at level alpha whatever the power); otherwise
    ``insufficient_data`` when the window could not have detected ``min_effect``.

    >>> verdict(False, 0.45, 0.3), verdict(False, 0.1, 0.3), verdict(True, 0.45, 0.3)
    ('insufficient_data', 'no_drift', 'drift')
    """
    if drifted:
        return DRIFT
    # NaN (no calibration) is not evidence of power: say so rather than "no drift"
    if not min_detectable_effect <= min_effect:
        return INSUFFICIENT_DATA
    return NO_DRIFT
