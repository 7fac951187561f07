"""What a rule's selector sees in a closed window, and whether its condition holds.

:func:`observe` returns an :class:`Observation`, or ``None`` when the window carries no
evidence for the rule (the detector did not run or had too few events to detect the
configured effect — verdict ``insufficient_data`` —, the metric is missing or NaN, or the rule
does not match the stream key). A window without evidence neither advances nor breaks an
alert's run of windows.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

from schemas.alert_rules import COMPARISONS, DetectorSelector, MetricSelector, Rule
from streams.windows.closed import ClosedWindow


@dataclass(frozen=True, slots=True)
class Observation:
    """One rule's view of one window: its condition, the value it reports, template fields."""

    condition: bool
    value: float
    context: dict[str, Any] = field(default_factory=dict)
    # The p-value a sequential rule accumulates (nan: no evidence either way).
    p_value: float = math.nan


def observe(rule: Rule, window: ClosedWindow) -> Observation | None:
    key = window.key
    if not rule.applies_to(key.app, key.model, key.prompt_version):
        return None
    if isinstance(rule.signal, DetectorSelector):
        return _detector(rule.signal, window)
    return _metric(rule.signal, window)


def _detector(signal: DetectorSelector, window: ClosedWindow) -> Observation | None:
    matching = [r for f, r in window.results if f == signal.field and r.method == signal.method]
    if not matching:
        return None
    # One detector per (field, method) is the worker's contract; if it ever sends several,
    # any drifted one is evidence, and it is the one reported.
    result = next((r for r in matching if r.drifted), matching[0])
    if result.insufficient:
        # Too few events to have seen the configured effect: neither drift nor evidence that
        # nothing changed, so the window neither advances nor resolves an alert.
        return None
    return Observation(
        p_value=evidence_p_value(result),
        condition=bool(result.drifted),
        value=float(result.statistic),
        context={
            "field": signal.field,
            "method": signal.method,
            "statistic": float(result.statistic),
            "p_value": float(result.p_value),
            "threshold": float(result.threshold),
            "alpha": float(result.alpha),
        },
    )


def evidence_p_value(result: Any) -> float:
    """The p-value of a detector result that evidence accumulates: against a user-set objective
    when the result has one (a rate's ``max_rates``), else the test's, refined below a
    permutation test's ``1/(B+1)`` floor by its tail estimate."""
    params = result.params or {}
    for key in ("objective_p_value", "tail_p_value"):
        value = params.get(key)
        if isinstance(value, numbers.Real) and math.isfinite(value):
            return float(value)
    return float(result.p_value)


def _metric(signal: MetricSelector, window: ClosedWindow) -> Observation | None:
    raw = window.metrics.get(signal.metric)
    # Absent, NULL (avgOrNull of an empty window), a map column or NaN: no evidence.
    if isinstance(raw, bool) or not isinstance(raw, numbers.Real):
        return None
    value = float(raw)
    if math.isnan(value):
        return None
    return Observation(
        condition=COMPARISONS[signal.op](value, signal.threshold),
        value=value,
        context={"metric": signal.metric, "op": signal.op, "threshold": signal.threshold},
    )
