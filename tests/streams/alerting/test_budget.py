"""The false-page budget: the sequential rules' levels follow from pages per week, the stream
keys seen and the windows per week, and a sequential rule pages through the engine."""

from __future__ import annotations

import math
from typing import Any

import pytest

from detectors.result import DetectorResult
from streams.alerting import AlertEngine, AlertStates
from streams.alerting.budget import Budget, derive
from streams.windows.clock import StreamKey
from streams.windows.closed import ClosedWindow
from tests.streams.alerting.factories import DRIFT_RULE, ERROR_RULE, START, WINDOW, rules

SEQUENTIAL_DRIFT: dict[str, Any] = {**DRIFT_RULE, "evidence": "sequential"}
SEQUENTIAL_ERRORS: dict[str, Any] = {
    "name": "ErrorRateChange", "severity": "critical", "evidence": "sequential",
    "signal": {"field": "error_rate", "method": "error_rate_fisher"},
}


def test_the_level_is_the_budget_over_rules_keys_and_windows_per_week() -> None:
    ruleset = rules(SEQUENTIAL_DRIFT, SEQUENTIAL_ERRORS, ERROR_RULE)
    deployment, rest = derive(ruleset, keys=8, window_seconds=300, false_pages_per_week=1)
    assert deployment.windows_per_week == 2016  # 7 × 24 × 12 five-minute windows
    assert deployment.tests == 16  # two sequential rules on eight keys
    assert deployment.level == pytest.approx(1 / (2 * 8 * 2016))
    assert deployment.expected_false_pages_per_week == pytest.approx(1.0)
    assert rest.rules == ("HighErrorRate",) and math.isnan(rest.level)


def test_a_service_label_gives_its_rules_their_own_budget() -> None:
    own = {**SEQUENTIAL_ERRORS, "labels": {"service": "billing", "false_pages_per_week": "0.5"}}
    ruleset = rules(SEQUENTIAL_DRIFT, own)
    lines = {line.group: line for line in derive(ruleset, 4, 60, 2.0)}
    assert lines["deployment"].level == pytest.approx(2.0 / (4 * 10080))
    assert lines["service billing"].level == pytest.approx(0.5 / (4 * 10080))
    # The label sets the budget; it is not sent to Alertmanager as a routing label.
    assert "false_pages_per_week" not in ruleset["ErrorRateChange"].alert_labels("a", "m", "")


def test_levels_tighten_as_stream_keys_appear() -> None:
    budget = Budget(rules(SEQUENTIAL_DRIFT), window_seconds=300, false_pages_per_week=1)
    budget.see(["chat/gpt-4o"])
    one = budget.level("PromptDrift")
    budget.see(["chat/gpt-4o", "search/gpt-4o", "search/gpt-4o"])
    assert budget.keys == 2
    assert budget.level("PromptDrift") == pytest.approx(one / 2)


def _mmd(p_value: float) -> DetectorResult:
    return DetectorResult(method="mmd", statistic=0.01, p_value=p_value, threshold=math.nan,
                          drifted=p_value <= 0.01, n_ref=500, n_test=200, alpha=0.01)


def _windows(p_values: list[float]) -> list[ClosedWindow]:
    key = StreamKey("chat", "gpt-4o", "")
    return [ClosedWindow(key, START + i * WINDOW, START + (i + 1) * WINDOW, {},
                         [("prompt", _mmd(p))]) for i, p in enumerate(p_values)]


def _first_firing(p_values: list[float]) -> int | None:
    engine = AlertEngine(rules(SEQUENTIAL_DRIFT),
                         Budget(rules(SEQUENTIAL_DRIFT), 300, false_pages_per_week=1))
    states = AlertStates()
    for index, window in enumerate(_windows(p_values)):
        # Through the stored form, as the router keeps it between windows.
        states = AlertStates.from_dict(states.to_dict())
        if any(t.state == "firing" for t in engine.evaluate(window, states)):
            return index
    return None


def test_a_sequential_rule_pages_a_big_change_at_once_and_a_small_one_after_a_few() -> None:
    assert _first_firing([0.5, 1e-12, 1e-12]) == 1
    # p = 0.002 per window: today's rule (two windows at 0.01) would page at window 1; the
    # budget's level (1/2016 per window) needs more evidence, which a persistent change gives.
    small = _first_firing([0.002] * 10)
    assert small is not None and 2 <= small <= 6
    assert _first_firing([0.3, 0.8, 0.02, 0.6, 0.5, 0.9, 0.04, 0.7] * 5) is None


def test_the_cli_prints_the_budget_table() -> None:
    from typer.testing import CliRunner

    from streams.cli.main import app

    result = CliRunner().invoke(app, ["alerts", "budget", "--keys", "8"])
    assert result.exit_code == 0, result.output
    # Six sequential defaults on eight keys at 2016 windows a week: 1 / (48 × 2016).
    assert "2016" in result.output and "1.03e-05" in result.output
