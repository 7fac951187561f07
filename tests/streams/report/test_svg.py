"""Chart primitives: round ticks, round times, and no markup from the data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from streams.exceptions import ConfigError
from streams.report import parse_time
from streams.report.svg import Series, nice_ticks, scatter_chart, sequential, time_chart, time_ticks


def test_ticks_are_round_and_cover_the_data() -> None:
    assert nice_ticks(-0.003, 0.025) == [-0.01, 0.0, 0.01, 0.02, 0.03]
    assert nice_ticks(120, 2450) == [0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0]
    minute = 60.0
    start = datetime(2026, 1, 1, 8, 0, 30, tzinfo=UTC).timestamp()
    ticks = time_ticks(start, start + 7 * minute)
    assert all(t % 60 == 0 for t in ticks) and len(ticks) == 7
    day_ticks = time_ticks(start, start + 86400)
    assert all(t % 3600 == 0 for t in day_ticks) and 2 <= len(day_ticks) <= 7


def test_text_from_prompts_cannot_inject_markup() -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    scatter = scatter_chart([0.0, 1.0], [0.0, 1.0], ["#000000", "#ffffff"], title=hostile,
                            legend=[(hostile, "#123456")], tips=[hostile, hostile])
    chart = time_chart([Series(hostile, [0.0, 60.0], [1.0, 2.0], "#000000")], title=hostile)
    for markup in (scatter, chart):
        assert "<script" not in markup and "<img" not in markup
        assert "&lt;script&gt;" in markup


def test_empty_charts_say_so() -> None:
    assert "no data in this period" in time_chart([], title="t")
    assert "nothing" in scatter_chart([], [], [], title="t", empty_message="nothing")


def test_sequential_colours_run_from_dark_to_bright() -> None:
    assert sequential(0.0) == "#440154" and sequential(1.0) == "#fde725"
    assert sequential(-1.0) == sequential(0.0) and sequential(0.5) == "#21918c"


def test_since_accepts_durations_and_rfc3339_and_names_a_bad_value() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_time("24h", now) == now - timedelta(hours=24)
    assert parse_time("90m", now) == now - timedelta(minutes=90)
    assert parse_time("2026-02-28T06:00:00Z", now) == datetime(2026, 2, 28, 6, tzinfo=UTC)
    assert parse_time("2026-02-28 06:00", now) == datetime(2026, 2, 28, 6, tzinfo=UTC)
    with pytest.raises(ConfigError) as error:
        parse_time("last week", now)
    assert error.value.setting == "since"
