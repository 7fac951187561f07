from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from grafana.macros import expand_macros

FROM = datetime(2025, 1, 1, tzinfo=UTC)  # 1735689600
TO = datetime(2025, 1, 1, 1, tzinfo=UTC)  # 1735693200


def expand(sql: str, interval_s: float = 60, **variables) -> str:
    return expand_macros(sql, FROM, TO, interval_s, variables)


def test_time_filter_and_range_macros_use_utc_epoch_seconds() -> None:
    assert expand("$__timeFilter(ts)") == (
        "ts >= toDateTime(1735689600) AND ts <= toDateTime(1735693200)"
    )
    assert expand("$__fromTime, $__toTime") == "toDateTime(1735689600), toDateTime(1735693200)"
    # The same instant in another zone is the same epoch.
    paris = timezone(timedelta(hours=1))
    assert expand_macros("$__fromTime", FROM.astimezone(paris), TO, 60) == (
        "toDateTime(1735689600)"
    )


def test_millisecond_and_date_variants() -> None:
    assert expand("$__timeFilter_ms(ts)") == (
        "ts >= fromUnixTimestamp64Milli(1735689600000) AND "
        "ts <= fromUnixTimestamp64Milli(1735693200000)"
    )
    assert expand("$__dateFilter(d)") == "d >= toDate('2025-01-01') AND d <= toDate('2025-01-01')"
    assert expand("$__dt(d, t)") == (
        "(d >= toDate('2025-01-01') AND d <= toDate('2025-01-01')) AND "
        "(t >= toDateTime(1735689600) AND t <= toDateTime(1735693200))"
    )


def test_interval_is_whole_seconds_and_at_least_one() -> None:
    assert expand("INTERVAL $__interval_s second", interval_s=90.7) == "INTERVAL 90 second"
    assert expand("$__interval_s", interval_s=0.2) == "1"
    assert expand("$__timeInterval(toStartOfHour(ts))", interval_s=30) == (
        "toStartOfInterval(toDateTime(toStartOfHour(ts)), INTERVAL 30 second)"
    )


def test_variables_follow_the_plugin_formatter() -> None:
    # Multi-value variables become quoted lists; single values go in verbatim.
    assert expand("app IN (${app})", app=["a", "b"]) == "app IN ('a','b')"
    assert expand("app = '$app'", app="a") == "app = 'a'"
    # Unknown names are left alone, as Grafana does.
    assert expand("${other} $app_x", app=["a"]) == "${other} $app_x"


def test_macros_expand_after_variables() -> None:
    assert expand("$__timeFilter($col)", col="ts").startswith("ts >= toDateTime(")


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("$__timeFiltr(ts)", "unknown ClickHouse macro"),
        ("$__timeFilter", "needs 1 argument"),
        ("$__timeFilter(a, b)", "takes 1 argument"),
        ("$__timeFilter(ts", "unbalanced"),
    ],
)
def test_malformed_macros_are_errors(sql: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        expand(sql)


def test_naive_or_inverted_ranges_are_rejected() -> None:
    with pytest.raises(ValueError, match="time_from"):
        expand_macros("1", FROM.replace(tzinfo=None), TO, 60)
    with pytest.raises(ValueError, match="time_to"):
        expand_macros("1", TO, FROM, 60)
