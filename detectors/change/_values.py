"""What the change tests on scalars share: checked 1-D values, quantile names, the decision."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.result import DetectorResult


def finite_values(name: str, values: ArrayLike) -> NDArray[np.float64]:
    """``values`` as a finite 1-D float64 array; ``ValueError`` naming ``name`` otherwise."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D array of numbers: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def quantile_label(q: float) -> str:
    """Column-style name of a quantile level: ``0.95 -> "p95"``, ``0.999 -> "p99.9"``.

    >>> quantile_label(0.95), quantile_label(0.999)
    ('p95', 'p99.9')
    """
    return f"p{100.0 * q:g}"


def decided(
    method: str, statistic: float, *, n_ref: int, n_test: int, params: dict[str, object],
    p_value: float = math.nan, alpha: float = math.nan, threshold: float = math.nan,
) -> DetectorResult:
    """A result whose decision is ``p_value <= alpha`` or ``statistic > threshold``.

    A test gives a p-value (the threshold stays ``nan``), an objective gives a threshold (the
    p-value and ``alpha`` stay ``nan``); a ``nan`` on either side never fires, so an empty
    window or reference is "no change", never an alarm.
    """
    return DetectorResult(
        method=method,
        statistic=statistic,
        p_value=p_value,
        threshold=threshold,
        drifted=bool(p_value <= alpha) or bool(statistic > threshold),
        n_ref=int(n_ref),
        n_test=int(n_test),
        alpha=alpha,
        params=params,
    )
