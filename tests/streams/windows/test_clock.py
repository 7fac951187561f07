"""When a window closes: on the watermark, or after idle time counted only while caught up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streams.windows.clock import StreamKey, WindowClock, WindowSpec

SPEC = WindowSpec(timedelta(seconds=10), timedelta(seconds=2), timedelta(seconds=30))
KEY = StreamKey("support-bot", "gpt-4o-mini")
T0 = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)


class Wall:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def clock_with_one_event() -> tuple[WindowClock, Wall]:
    wall = Wall()
    clock = WindowClock(SPEC, wall_clock=wall)
    clock.observe(KEY, T0 + timedelta(seconds=1))
    return clock, wall


def test_a_window_closes_once_the_watermark_passes_its_end() -> None:
    clock, _ = clock_with_one_event()
    clock.observe(KEY, T0 + timedelta(seconds=11))  # watermark 9 s: not yet
    assert clock.due() == []
    clock.observe(KEY, T0 + timedelta(seconds=12))  # watermark 10 s = the end
    assert clock.due() == [(KEY, T0)]


def closes_exactly_at_the_idle_time(clock: WindowClock, wall: Wall) -> None:
    wall.now += 29
    assert clock.due() == []
    wall.now += 1
    assert clock.due() == [(KEY, T0)]


def test_a_quiet_key_closes_after_the_idle_time_while_the_worker_is_caught_up() -> None:
    clock, wall = clock_with_one_event()
    clock.caught_up(True)
    closes_exactly_at_the_idle_time(clock, wall)


def test_time_spent_lagging_does_not_count_as_the_keys_silence() -> None:
    clock, wall = clock_with_one_event()
    clock.caught_up(False)  # e.g. ClickHouse refusing writes: the backlog waits in Kafka
    wall.now += 300
    assert clock.due() == []
    clock.caught_up(True)  # caught up again: the idle time starts from here
    closes_exactly_at_the_idle_time(clock, wall)


def test_staying_caught_up_keeps_the_time_it_started() -> None:
    clock, wall = clock_with_one_event()
    clock.caught_up(True)
    wall.now += 20
    clock.caught_up(True)
    wall.now += 10
    assert clock.due() == [(KEY, T0)]


def test_a_batch_observed_at_once_opens_and_closes_the_windows_one_by_one_would() -> None:
    # Out of order, spanning three windows, one of them already closed: the batch path the
    # ingest pipeline takes must leave the clock exactly as single observations do.
    offsets = [25, 3, 14, 27, 9, 41, 16]
    one_by_one, batched = WindowClock(SPEC, wall_clock=Wall()), WindowClock(SPEC, wall_clock=Wall())
    for clock in (one_by_one, batched):
        clock.observe(KEY, T0 + timedelta(seconds=1))
        clock.observe(KEY, T0 + timedelta(seconds=12))
        clock.closed(KEY, T0)
    for seconds in offsets:
        one_by_one.observe(KEY, T0 + timedelta(seconds=seconds))
    batched.observe_many(KEY, [T0 + timedelta(seconds=s) for s in offsets])
    expected = [(KEY, T0 + timedelta(seconds=s)) for s in (10, 20)]  # watermark 39 s
    assert one_by_one.due() == batched.due() == expected
