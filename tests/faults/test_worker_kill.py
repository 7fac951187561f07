"""SIGKILL mid-stream: a worker killed without warning loses and repeats nothing once restarted.

Offsets are committed only after their batch is in ClickHouse, so the restarted worker replays
the uncommitted tail; ReplacingMergeTree keeps one row per event, and windows closed before the
kill are found in storage and not closed again (or, if closed again, give the same row).
"""

from __future__ import annotations

import signal

from tests.support.faults import (
    COUNT_FINAL,
    FAST_WINDOWS_ENV,
    SHORT_SESSION_ENV,
    assert_events_exactly_once,
    assert_windows_exactly_once,
    committed_offsets,
    publish,
    traffic,
    windows_of,
)
from tests.support.workers import Deployment, wait_for

EVENTS = 20_000
IDLE_CLOSE_SECONDS = "20"  # > session timeout (10 s) + start-up


def test_sigkill_mid_stream_then_restart_stores_every_event_and_window_once(
    deployment: Deployment,
) -> None:
    # A window whose key sees no event for idle_close_seconds of wall-clock time closes, and
    # the restarted worker counts that time from its start, before it owns any partition
    # (about the session timeout later): so idle closing must outlast the restart, or the
    # windows left open by the kill close before their replayed events arrive.
    deployment.extra_env.update(
        FAST_WINDOWS_ENV, **SHORT_SESSION_ENV, SEISMO_IDLE_CLOSE_SECONDS=IDLE_CLOSE_SECONDS
    )
    events = traffic(EVENTS, seed=11)
    publish(deployment.bootstrap, deployment.traces_topic, events)
    deployment.start()

    group = deployment.env()["SEISMO_CONSUMER_GROUP"]
    topic = deployment.traces_topic

    def committed() -> int:
        return sum(committed_offsets(deployment.bootstrap, group, topic).values())

    # Kill once a quarter of the stream is stored, offsets are committed and some windows are
    # closed: the restart has committed records to skip, uncommitted ones to replay and closed
    # windows to leave alone.
    def mid_stream() -> bool:
        written = deployment.scalar("SELECT count() FROM events")
        closed = deployment.scalar("SELECT count() FROM window_metrics")
        return written >= EVENTS // 4 and closed > 0 and committed() > 0

    wait_for(mid_stream, 120, "a quarter of the stream, a commit and a closed window")
    assert deployment.stop(signal.SIGKILL) == -signal.SIGKILL
    at_kill = committed()
    assert at_kill < EVENTS, "the kill landed after the end of the stream"

    deployment.start()
    deployment.wait_rows(COUNT_FINAL, EVENTS)
    assert_events_exactly_once(deployment, events)
    deployment.wait_rows("SELECT count() FROM window_metrics FINAL", len(windows_of(events)))
    assert_windows_exactly_once(deployment, events, reference_events=200)
    print(f"\nkilled with {at_kill} of {EVENTS} offsets committed")
