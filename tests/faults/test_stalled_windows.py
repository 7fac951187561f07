"""Window results across a stall longer than ``idle_close_seconds``.

A key's window also closes after ``idle_close_seconds`` of wall-clock time without an event of
the key, so the last window of a stream that stops is not left open. That silence must not be
the worker's own: while ClickHouse refuses writes the events of the open windows wait in Kafka,
and closing those windows on what was written before the stall would leave them out of every
result. Idle time therefore counts only while the group's consumer lag is zero.
"""

from __future__ import annotations

import pytest

from streams.testing.faults import SINK_OUTAGE_ENV
from tests.support.faults import (
    COUNT_FINAL,
    FAST_WINDOWS_ENV,
    assert_windows_exactly_once,
    publish,
    traffic,
    windows_of,
)
from tests.support.workers import Deployment, wait_for

EVENTS = 6_000
IDLE_CLOSE_SECONDS = 3  # FAST_WINDOWS_ENV's
OUTAGE_SECONDS = 12  # > IDLE_CLOSE_SECONDS


@pytest.mark.slow
def test_windows_open_during_a_long_sink_outage_count_every_event(
    deployment: Deployment,
) -> None:
    deployment.extra_env.update(FAST_WINDOWS_ENV, **{SINK_OUTAGE_ENV: f"1500:{OUTAGE_SECONDS}"})
    events = traffic(EVENTS, seed=51)
    publish(deployment.bootstrap, deployment.traces_topic, events)
    deployment.start()
    deployment.wait_rows(COUNT_FINAL, EVENTS, timeout=180)
    expected = len(windows_of(events))
    wait_for(lambda: deployment.scalar("SELECT count() FROM window_metrics FINAL") >= expected,
             120, "every window closed")
    assert_windows_exactly_once(deployment, events, reference_events=200)
