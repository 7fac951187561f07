"""A window too small to detect the configured effect (verdict insufficient_data) is no
evidence for a drift rule: it neither advances a pending alert nor resolves a firing one."""

from __future__ import annotations

from dataclasses import replace

from streams.alerting import AlertEngine
from tests.streams.alerting.factories import DRIFT_RULE, rules, run, states_of, window


def thin(index: int):
    """A window whose MMD test did not reject and could not have: insufficient_data."""
    w = window(index, drifted=False)
    [(fld, result)] = w.results
    w.results[:] = [(fld, replace(result, min_detectable_effect=0.6,
                                  verdict="insufficient_data"))]
    return w


def test_thin_windows_neither_fire_nor_resolve_a_drift_alert() -> None:
    engine = AlertEngine(rules(DRIFT_RULE, for_windows=2, resolve_after_windows=2))
    windows = [window(0, drifted=True), thin(1), window(2, drifted=True),  # fires
               thin(3), thin(4), thin(5),  # no evidence: stays firing
               window(6, drifted=False), window(7, drifted=False)]  # resolves
    assert states_of(run(engine, windows)) == [
        ["pending"], [], ["firing"], [], [], [], [], ["resolved"]]


def test_thin_windows_alone_page_nobody() -> None:
    engine = AlertEngine(rules(DRIFT_RULE, for_windows=1))
    assert states_of(run(engine, [thin(i) for i in range(5)])) == [[]] * 5
