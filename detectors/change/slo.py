"""Per-app service-level objective on a quantile, e.g. "p95 latency <= 2000 ms".

Not a statistical test: the configured objective is the threshold, and a window violates it
when its quantile is above it. It returns the shared result type so SLO breaches are stored,
charted and alerted like every other detector's output.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike

from detectors.change._values import decided, finite_values, quantile_label
from detectors.result import DetectorResult

__all__ = ["SLOCheck"]


class SLOCheck:
    """Does the window's ``quantile`` of a value exceed ``max_value``?

    Parameters
    ----------
    max_value : float
        The objective: the window's quantile must stay at or below it (e.g. 2000.0 ms).
    quantile : float
        Quantile level in (0, 1], e.g. 0.95 for p95.
    metric : str
        Name of the value, the prefix of the result's ``method``: ``"latency_ms_p95_slo"``.

    Notes
    -----
    The check fires exactly when the window's quantile is greater than ``max_value``; the
    quantile is numpy's exact ``np.quantile`` (linear interpolation) of the window's values.
    There is no reference and no ``alpha``: ``n_ref`` is 0 and ``alpha`` and ``p_value`` are
    ``nan``.

    Examples
    --------
    >>> check = SLOCheck(2000.0, quantile=0.95)
    >>> result = check.score([800.0] * 90 + [2500.0] * 10)
    >>> result.method, result.statistic, result.drifted
    ('latency_ms_p95_slo', 2500.0, True)
    """

    def __init__(
        self, max_value: float, *, quantile: float = 0.95, metric: str = "latency_ms"
    ) -> None:
        if (
            isinstance(max_value, bool)
            or not isinstance(max_value, numbers.Real)
            or not math.isfinite(max_value)
        ):
            raise ValueError(f"max_value must be a finite number, got {max_value!r}")
        if (
            isinstance(quantile, bool)
            or not isinstance(quantile, numbers.Real)
            or not (0.0 < quantile <= 1.0)
        ):
            raise ValueError(f"quantile must be a number in (0, 1], got {quantile!r}")
        if not isinstance(metric, str) or not metric:
            raise ValueError(f"metric must be a non-empty string, got {metric!r}")
        self.max_value = float(max_value)
        self.quantile = float(quantile)
        self.metric = metric

    def _reset(self) -> None:
        """Nothing to forget: the check keeps no state between windows."""

    @property
    def method(self) -> str:
        """Stable name written to results, e.g. ``"latency_ms_p95_slo"``."""
        return f"{self.metric}_{quantile_label(self.quantile)}_slo"

    def score(self, x: ArrayLike) -> DetectorResult:
        """Compare the quantile of the window's values ``x`` (1-D) with the objective.

        An empty window never fires (``statistic`` is ``nan``).
        """
        values = finite_values("x", x)
        observed = float(np.quantile(values, self.quantile)) if values.size else math.nan
        params: dict[str, object] = {
            "quantile": self.quantile, "max_value": self.max_value, "source": "sample",
        }
        return decided(self.method, observed, threshold=self.max_value, n_ref=0,
                       n_test=values.size, params=params)

    def __repr__(self) -> str:
        return (
            f"SLOCheck(max_value={self.max_value}, quantile={self.quantile}, "
            f"metric={self.metric!r})"
        )
