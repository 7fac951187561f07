"""Windows, rules and transitions for the alerting tests, made through the real engine."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from detectors.result import DetectorResult
from streams.alerting import (
    AlertEngine,
    AlertStates,
    Transition,
    parse_rules,
)
from streams.windows.clock import StreamKey
from streams.windows.closed import ClosedWindow

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=1)

ERROR_RULE: dict[str, Any] = {
    "name": "HighErrorRate",
    "signal": {"metric": "error_rate", "op": ">", "threshold": 0.05},
    "severity": "critical",
    "labels": {"team": "ml-platform", "service": "chat"},
    "annotations": {
        "summary": "{app}/{model}: {value:.0%} errors",
        "runbook_url": "https://runbooks.example.com/errors",
        "dashboard_url": "http://grafana.example.com/d/seismo?var-app={app}",
    },
}
DRIFT_RULE: dict[str, Any] = {
    "name": "PromptDrift",
    "signal": {"field": "prompt", "method": "mmd"},
    "severity": "warning",
    "annotations": {"summary": "{app}/{model} drift MMD² {value:.3f} p={p_value:.3f}"},
}


def rules(*entries: dict[str, Any], **overrides: Any):
    """A rule set of the given rule dicts, each updated with ``overrides``."""
    return parse_rules({"rules": [{**entry, **overrides} for entry in entries]})


def mmd(drifted: bool, statistic: float = 0.02) -> DetectorResult:
    return DetectorResult(
        method="mmd",
        statistic=statistic,
        p_value=0.001 if drifted else 0.4,
        threshold=float("nan"),
        drifted=drifted,
        n_ref=500,
        n_test=200,
        alpha=0.01,
    )


def window(
    index: int,
    error_rate: float | None = None,
    drifted: bool | None = None,
    app: str = "chat",
    model: str = "gpt-4o",
    prompt_version: str = "v3",
) -> ClosedWindow:
    """The ``index``-th one-minute window of a stream key, with the signals given."""
    metrics = {} if error_rate is None else {"error_rate": error_rate}
    results: list[tuple[str, DetectorResult]] = (
        [] if drifted is None else [("prompt", mmd(drifted))]
    )
    return ClosedWindow(
        StreamKey(app, model, prompt_version),
        START + index * WINDOW,
        START + (index + 1) * WINDOW,
        metrics,
        results,
    )


def error_windows(rates: Iterable[float | None], start: int = 0) -> list[ClosedWindow]:
    return [window(start + i, error_rate=rate) for i, rate in enumerate(rates)]


def run(engine: AlertEngine, windows: Iterable[ClosedWindow], states: AlertStates | None = None):
    """Evaluate windows in order: the list of transitions per window."""
    states = states if states is not None else AlertStates()
    return [engine.evaluate(w, states) for w in windows]


def states_of(per_window: list[list[Transition]]) -> list[list[str]]:
    return [[t.state for t in transitions] for transitions in per_window]


def episode(**overrides: Any) -> tuple[Transition, Transition]:
    """A firing and the resolve of the same alert, as the engine makes them."""
    engine = AlertEngine(rules(ERROR_RULE, **overrides))
    made = [t for ts in run(engine, error_windows([0.2, 0.3, 0.0, 0.0])) for t in ts]
    firing = next(t for t in made if t.state == "firing")
    resolved = next(t for t in made if t.state == "resolved")
    return firing, resolved


def pending_then_cancelled() -> list[Transition]:
    """A pending alert whose condition cleared before it fired."""
    engine, states = AlertEngine(rules(ERROR_RULE)), AlertStates()
    made = [t for w in error_windows([0.2, 0.0]) for t in engine.evaluate(w, states)]
    assert [t.state for t in made] == ["pending", "cancelled"]
    return made
