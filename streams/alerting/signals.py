"""Signal selectors: what a rule watches in a closed window, and whether its condition holds.

A selector returns an :class:`Observation`, or ``None`` when the window carries no evidence
for it (the detector did not run, the metric is missing or NaN). A window without evidence
neither advances nor breaks an alert's run of windows.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from streams.alerting.outcome import WindowOutcome

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
DETECTOR_CONDITIONS = ("drifted",)


@dataclass(frozen=True, slots=True)
class Observation:
    """One rule's view of one window: its condition, the value it reports, template fields."""

    condition: bool
    value: float
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DetectorSignal:
    """A detector's decision on one field, e.g. ``field: prompt, method: mmd``.

    The reported value is the test statistic; ``{p_value}``, ``{statistic}``, ``{threshold}``
    and ``{alpha}`` are available to annotations as well.
    """

    field: str
    method: str
    condition: str = "drifted"

    placeholders: ClassVar[dict[str, Any]] = {
        "field": "prompt",
        "method": "mmd",
        "statistic": 0.5,
        "p_value": 0.01,
        "threshold": 0.1,
        "alpha": 0.01,
    }

    def observe(self, outcome: WindowOutcome) -> Observation | None:
        matching = [r for f, r in outcome.results if f == self.field and r.method == self.method]
        if not matching:
            return None
        # One detector per (field, method) is the worker's contract; if it ever sends several,
        # any drifted one is evidence, and it is the one reported.
        result = next((r for r in matching if r.drifted), matching[0])
        return Observation(
            condition=bool(result.drifted),
            value=float(result.statistic),
            context={
                "field": self.field,
                "method": self.method,
                "statistic": float(result.statistic),
                "p_value": float(result.p_value),
                "threshold": float(result.threshold),
                "alpha": float(result.alpha),
            },
        )

    def describe(self) -> str:
        return f"{self.method} on {self.field} {self.condition}"


@dataclass(frozen=True, slots=True)
class MetricSignal:
    """A window metric compared with a threshold, e.g. ``error_rate > 0.05``."""

    metric: str
    op: str
    threshold: float

    placeholders: ClassVar[dict[str, Any]] = {"metric": "error_rate", "op": ">", "threshold": 0.1}

    def observe(self, outcome: WindowOutcome) -> Observation | None:
        raw = outcome.metrics.get(self.metric)
        # Absent, NULL (avgOrNull of an empty window), a map column or NaN: no evidence.
        if isinstance(raw, bool) or not isinstance(raw, numbers.Real):
            return None
        value = float(raw)
        if math.isnan(value):
            return None
        return Observation(
            condition=COMPARISONS[self.op](value, self.threshold),
            value=value,
            context={"metric": self.metric, "op": self.op, "threshold": self.threshold},
        )

    def describe(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"


Signal = DetectorSignal | MetricSignal
