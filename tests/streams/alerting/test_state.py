"""The alert state machine, driven through the engine as the worker drives it."""

from __future__ import annotations

import doctest
import json

import streams.alerting.engine
from streams.alerting import AlertEngine, AlertStates
from tests.streams.alerting.factories import (
    DRIFT_RULE,
    ERROR_RULE,
    error_windows,
    rules,
    run,
    states_of,
    window,
)

HIGH, LOW = 0.2, 0.0


def test_fires_after_for_windows_and_resolves_after_resolve_after_windows() -> None:
    engine = AlertEngine(rules(ERROR_RULE, for_windows=3, resolve_after_windows=2))
    per_window = run(engine, error_windows([HIGH, HIGH, HIGH, HIGH, LOW, LOW, LOW]))
    assert states_of(per_window) == [["pending"], [], ["firing"], [], [], ["resolved"], []]


def test_for_windows_one_fires_on_the_first_window_without_pending() -> None:
    engine = AlertEngine(rules(ERROR_RULE, for_windows=1, resolve_after_windows=1))
    per_window = run(engine, error_windows([HIGH, LOW]))
    assert states_of(per_window) == [["firing"], ["resolved"]]


def test_pending_that_clears_before_firing_is_cancelled_and_never_pages() -> None:
    engine = AlertEngine(rules(ERROR_RULE, for_windows=2))
    per_window = run(engine, error_windows([HIGH, LOW, HIGH, HIGH]))
    assert states_of(per_window) == [["pending"], ["cancelled"], ["pending"], ["firing"]]
    cancelled = per_window[1][0]
    assert cancelled.ends_at == cancelled.window_end


def test_alternating_condition_neither_fires_nor_flaps() -> None:
    """A signal that flips every window pages at most once and never resolves meanwhile."""
    engine = AlertEngine(rules(ERROR_RULE, for_windows=2, resolve_after_windows=2))
    flapping = [HIGH, LOW] * 10
    never_fires = states_of(run(engine, error_windows(flapping)))
    assert not any("firing" in states for states in never_fires)

    # Once firing, the same flapping keeps it firing: one page, no resolve, no re-fire.
    after_firing = states_of(run(engine, error_windows([HIGH, HIGH, *flapping])))
    flat = [state for states in after_firing for state in states]
    assert flat.count("firing") == 1
    assert "resolved" not in flat


def test_windows_without_the_signal_neither_advance_nor_break_a_run() -> None:
    engine = AlertEngine(rules(ERROR_RULE, for_windows=2, resolve_after_windows=2))
    per_window = run(engine, error_windows([HIGH, None, float("nan"), HIGH, LOW, None, LOW]))
    assert states_of(per_window) == [["pending"], [], [], ["firing"], [], [], ["resolved"]]


def test_reprocessing_a_window_emits_nothing_new() -> None:
    engine = AlertEngine(rules(ERROR_RULE, for_windows=2))
    states = AlertStates()
    windows = error_windows([HIGH, HIGH])
    first = [engine.evaluate(w, states) for w in windows]
    assert states_of(first) == [["pending"], ["firing"]]
    replayed = [engine.evaluate(w, states) for w in windows]
    assert replayed == [[], []]
    assert states.active() == {first[1][0].fingerprint: "firing"}


def test_state_survives_a_restart_through_a_json_round_trip() -> None:
    """Stop after every window, keep only the JSON, restart: same transitions as one run."""
    rates = [HIGH, HIGH, HIGH, LOW, HIGH, LOW, LOW, HIGH]
    engine = AlertEngine(rules(ERROR_RULE, resolve_after_windows=2))
    uninterrupted = run(engine, error_windows(rates))

    stored: str = json.dumps(AlertStates().to_dict())
    restarted = []
    for w in error_windows(rates):
        states = AlertStates.from_dict(json.loads(stored))  # a fresh worker each window
        restarted.append(
            AlertEngine(rules(ERROR_RULE, resolve_after_windows=2)).evaluate(w, states)
        )
        stored = json.dumps(states.to_dict())
    assert restarted == uninterrupted
    # A window replayed after the restart is still recognised as seen.
    last = error_windows(rates)[-1]
    assert engine.evaluate(last, AlertStates.from_dict(json.loads(stored))) == []


def test_each_stream_key_and_rule_is_its_own_alert() -> None:
    engine = AlertEngine(rules(ERROR_RULE, DRIFT_RULE, for_windows=1))
    states_a, states_b = AlertStates(), AlertStates()
    both = engine.evaluate(window(0, error_rate=HIGH, drifted=True, app="a"), states_a)
    other_app = engine.evaluate(window(0, error_rate=HIGH, app="b"), states_b)
    assert {t.rule for t in both} == {"HighErrorRate", "PromptDrift"}
    assert len({t.fingerprint for t in both + other_app}) == 3


def test_transition_carries_episode_times_value_and_rendered_annotations() -> None:
    engine = AlertEngine(rules(ERROR_RULE, for_windows=2, resolve_after_windows=2))
    per_window = run(engine, error_windows([0.25, 0.5, LOW, LOW]))
    pending, firing, resolved = per_window[0][0], per_window[1][0], per_window[3][0]
    assert pending.starts_at == firing.starts_at == resolved.starts_at == window(0).window_start
    assert firing.value == 0.5 and firing.ends_at is None
    assert resolved.ends_at == resolved.transition_at == window(3).window_end
    assert firing.annotations["summary"] == "chat/gpt-4o: 50% errors"
    assert firing.labels == {
        "alertname": "HighErrorRate",
        "severity": "critical",
        "app": "chat",
        "model": "gpt-4o",
        "prompt_version": "v3",
        "team": "ml-platform",
        "service": "chat",
    }


def test_drift_rule_reports_the_statistic_and_p_value() -> None:
    engine = AlertEngine(rules(DRIFT_RULE))
    per_window = run(engine, [window(0, drifted=True), window(1, drifted=True)])
    firing = per_window[1][0]
    assert firing.state == "firing" and firing.value == 0.02
    assert firing.annotations["summary"] == "chat/gpt-4o drift MMD² 0.020 p=0.001"


def test_engine_docstring_example_runs() -> None:
    outcome = doctest.testmod(streams.alerting.engine)
    assert outcome.attempted > 0 and outcome.failed == 0
