"""Sequential change detection on per-window p-values: an e-CUSUM with a known false-alarm rate.

Each window's test gives a p-value; a calibrator turns it into an e-value ``e`` (a
non-negative number with ``E[e] <= 1`` when the p-value is valid under no change), and the
e-detector multiplies them up while they point to a change::

    M_0 = 1,   M_t = e_t * max(M_{t-1}, 1),   alarm when M_t >= A

Under no change ``M_t`` is at most the Shiryaev-Roberts e-detector ``R_t = e_t (R_{t-1} + 1)``,
and ``R_t - t`` is a non-negative supermartingale, so by optional stopping the mean number of
windows to a false alarm is at least ``A`` (Shin, Ramdas and Rinaldo, "E-detectors", 2022):
a detector checked once per window with ``A = 1 / level`` raises at most ``level`` false
alarms per window on average, whatever the p-values' dependence across windows. A large
change gives one tiny p-value, one huge e-value and an alarm in one window; a small
persistent one gives moderate e-values that multiply to ``A`` over a few windows.

The calibrator is the mixture of ``kappa * p**(kappa - 1)`` over ``kappa`` uniform on (0, 1)
(Vovk and Wang, "E-values: calibration, combination and applications", 2021)::

    e(p) = (1 - p + p ln p) / (p (ln p)**2)

which is about ``1 / (p ln²(1/p))`` for small ``p``: a one-window alarm needs
:func:`one_window_p` of ``A`` (about ``1 / (A ln² A)``).

Pure: the running value ``M`` is the caller's state (the alert states keep it per alert).
"""

from __future__ import annotations

import math

from scipy import optimize


def e_value(p_value: float) -> float:
    """The mixture calibrator's e-value of one p-value (``nan`` in: 1, no evidence either way).

    >>> round(e_value(1.0), 3), round(e_value(0.05), 2), round(e_value(1e-6), 0)
    (0.5, 1.78, 5239.0)
    """
    if not math.isfinite(p_value):
        return 1.0
    p = min(max(float(p_value), 1e-300), 1.0)
    if p > 1.0 - 1e-9:
        return 0.5  # the limit at p = 1
    log_p = math.log(p)
    return (1.0 - p + p * log_p) / (p * log_p * log_p)


def threshold(level: float) -> float:
    """The alarm threshold ``A`` for a false-alarm rate of ``level`` per window: ``1 / level``."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return 1.0 / level


def update(evidence: float, p_value: float) -> float:
    """One window's step of the e-CUSUM: ``e(p) * max(evidence, 1)``."""
    return e_value(p_value) * max(float(evidence), 1.0)


def alarmed(evidence: float, level: float) -> bool:
    return evidence >= threshold(level)


def one_window_p(level: float) -> float:
    """The largest p-value that alone raises an alarm at ``level``: a test whose p-values cannot
    get this small (a permutation test has ``p >= 1/(B+1)``) needs more than one window."""
    target = threshold(level)
    if e_value(1e-300) < target:
        return 0.0
    log_p = optimize.brentq(lambda lp: math.log(e_value(math.exp(lp))) - math.log(target),
                            math.log(1e-300), 0.0)
    return math.exp(log_p)


def run(p_values: list[float], level: float) -> list[int]:
    """Windows (0-based) at which the detector alarms on a sequence of p-values, restarting
    from ``M = 1`` after each alarm (what the bench and the tests count)."""
    alarms, evidence = [], 1.0
    for index, p in enumerate(p_values):
        evidence = update(evidence, p)
        if alarmed(evidence, level):
            alarms.append(index)
            evidence = 1.0
    return alarms
