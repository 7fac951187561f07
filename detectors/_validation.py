"""Argument checks shared by the detectors: each failure is a ``ValueError`` naming the argument."""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import NDArray


def check_alpha(alpha: float) -> float:
    """``alpha`` must be a real number in the open interval (0, 1)."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")
    return float(alpha)


def check_int(name: str, value: int, *, minimum: int) -> int:
    """An integer (not a bool) no smaller than ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_seed(seed: int | None) -> int | None:
    """``None`` (fresh entropy on every use) or a non-negative int (numpy's seed domain)."""
    return None if seed is None else check_int("seed", seed, minimum=0)


def check_sample(
    name: str, sample: NDArray, *, min_rows: int, n_features: int | None = None
) -> NDArray[np.float64]:
    """A finite 2-D float64 array with at least ``min_rows`` rows (and ``n_features`` columns)."""
    try:
        arr = np.asarray(sample, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array of shape (n, d): {exc}") from None
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(f"{name} must be 2-D of shape (n, d) with d >= 1, got shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} rows, got {arr.shape[0]}")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} features but the reference has {n_features}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr
