"""The pipeline rules and the Watchdog, on counters fed by hand at a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.tables import DRIFT_COLUMNS
from streams.alerting.notifiers import AlertmanagerNotifier, WebhookNotifier
from streams.alerting.pipeline_rules import (
    DEAD_LETTERS,
    NOTIFIER_FAILURES,
    RECORDS,
    WRITE_FAILURES,
)
from streams.alerting.pipeline_watch import WATCHDOG, PipelineWatch
from streams.alerting.transitions import FIRING, PENDING, REFRESHED, RESOLVED
from streams.exceptions import ConfigError
from streams.settings.watch import WatchSettings
from streams.windows.clock import StreamKey
from streams.windows.closed import ClosedWindow

START = datetime(2026, 1, 1, tzinfo=UTC)
CHECK = 15.0


class Run:
    """A watch on a clock that advances one check interval per :meth:`step`."""

    def __init__(self, **settings: float) -> None:
        self.now = START
        self.watch = PipelineWatch(WatchSettings(**settings), clock=lambda: self.now)
        self.counters = {RECORDS: 0.0, DEAD_LETTERS: 0.0, WRITE_FAILURES: 0.0,
                         NOTIFIER_FAILURES: 0.0}

    def step(self, lag: float | None = 0.0, due: tuple = (), **more: float) -> list[tuple]:
        self.now += timedelta(seconds=CHECK)
        for name, amount in more.items():
            self.counters[name] += amount
        return [(t.rule, t.state) for t in self.watch.check(self.counters, lag, due)]

    def steps(self, n: int, **options) -> list[tuple]:
        return [change for _ in range(n) for change in self.step(**options)]


def test_failing_inserts_fire_at_once_and_resolve_after_a_quiet_span() -> None:
    run = Run(watch_write_failure_seconds=60, watch_write_failures=3)
    assert run.steps(4, records=100) == []
    assert run.step(write_failures=1) == []  # one failed insert, taken on retry: a hiccup
    assert run.steps(4) == []
    # An outage: the sink's retries fail a few seconds apart, then every 10 s.
    assert run.step(write_failures=3) == [("SeismoClickHouseWritesFailing", FIRING)]
    assert run.steps(8, write_failures=1.5) == []
    # Failures stop: the 60 s span empties below three and the alert resolves.
    changes = run.steps(4)
    assert changes == [("SeismoClickHouseWritesFailing", RESOLVED)]


def test_firing_pipeline_alerts_carry_an_expiry_and_their_labels() -> None:
    run = Run(watchdog_ttl_seconds=300)
    run.step()
    [firing] = run.watch.check({WRITE_FAILURES: 5}, 0.0, ())
    assert firing.ends_at == run.now + timedelta(seconds=300)
    assert firing.labels == {"alertname": "SeismoClickHouseWritesFailing",
                             "severity": "critical", "app": "seismo", "model": "pipeline"}
    assert "5 ClickHouse inserts failed" in firing.summary


def test_dead_letters_at_their_usual_share_do_not_page_and_a_jump_does() -> None:
    run = Run(watch_dlq_span_seconds=300, watch_dlq_baseline_seconds=3600)
    # An hour at 2 % dead letters is the usual level, not an incident.
    assert run.steps(240, records=1000, dead_letters=20) == []
    # Twice the traffic at the same share: a larger count, the same share.
    assert run.steps(20, records=2000, dead_letters=40) == []
    assert run.step(records=1000, dead_letters=200) == [("SeismoDeadLettersAboveUsual", FIRING)]


def test_a_few_dead_letters_do_not_page_and_a_fresh_worker_waits_for_its_baseline() -> None:
    run = Run(watch_dlq_min_records=10, watch_dlq_span_seconds=300)
    # Every record bad, but no usual level yet: two spans of history first.
    assert run.steps(39, records=10, dead_letters=10) == []
    run = Run(watch_dlq_min_records=10, watch_dlq_span_seconds=300)
    assert run.steps(60, records=10) == []
    assert run.steps(3, records=10, dead_letters=3) == []  # 9 < 10, though every third is bad
    assert run.step(records=10, dead_letters=3) == [("SeismoDeadLettersAboveUsual", FIRING)]


def test_lag_that_grows_for_minutes_pages_and_a_steady_or_small_lag_does_not() -> None:
    steady = Run()
    assert steady.steps(40, lag=50_000) == []
    small = Run(watch_lag_min_records=1000)
    assert [small.step(lag=10.0 * i) for i in range(40)] == [[]] * 40
    growing = Run(watch_lag_growth_seconds=300)
    changes = [growing.step(lag=1000.0 * i) for i in range(40)]
    first = next(i for i, c in enumerate(changes) if c)
    # 300 s of history, then a minute (4 checks) of it still growing.
    assert changes[first] == [("SeismoConsumerLagGrowing", PENDING)]
    assert first == 300 / CHECK
    assert changes[first + 3] == [("SeismoConsumerLagGrowing", FIRING)]


def test_an_unknown_lag_leaves_the_alert_as_it_was() -> None:
    run = Run()
    for i in range(30):
        run.step(lag=1000.0 * i)
    assert run.watch.states["SeismoConsumerLagGrowing"].phase == FIRING
    assert run.steps(10, lag=None) == []


def test_a_window_due_and_open_for_longer_than_the_span_pages() -> None:
    run = Run(watch_window_behind_seconds=300)
    key = (StreamKey("chat", "gpt-4o"), START)
    # Windows that close within a check or two of falling due are the normal case.
    for minute in range(30):
        window = (StreamKey("chat", "gpt-4o"), START + timedelta(minutes=minute))
        assert run.steps(2, due=(window,)) == []
    run = Run(watch_window_behind_seconds=300)
    changes = [run.step(due=(key,)) for _ in range(21)]
    assert changes[20] == [("SeismoWindowClosesBehind", FIRING)]
    assert [c for c in changes[:20] if c] == []
    assert run.step(due=()) == [("SeismoWindowClosesBehind", RESOLVED)]


def drift_window(fraction: float) -> ClosedWindow:
    row = [None] * len(DRIFT_COLUMNS)
    row[DRIFT_COLUMNS.index("field")] = "prompt"
    row[DRIFT_COLUMNS.index("sampled_fraction")] = fraction
    return ClosedWindow(StreamKey("chat", "gpt-4o"), START, START + timedelta(minutes=5),
                        drift_rows=[row])


def test_windows_that_embed_a_thin_share_of_their_events_page() -> None:
    run = Run(watch_min_sampled_fraction=0.05)
    run.watch.window_closed(drift_window(0.5))
    assert run.step() == []
    run = Run(watch_min_sampled_fraction=0.05)
    run.watch.window_closed(drift_window(0.01))
    assert run.step() == [("SeismoEmbeddingSaturated", FIRING)]


def test_repeated_notifier_failures_page() -> None:
    run = Run(watch_notifier_failures=3)
    assert run.steps(2, notifier_failures=1) == []
    assert run.step(notifier_failures=1) == [("SeismoNotifierFailures", FIRING)]


def test_the_watchdog_always_fires_and_firing_alerts_are_refreshed_with_it() -> None:
    run = Run(watchdog_ttl_seconds=120, watchdog_interval_seconds=30)
    [watchdog] = run.watch.beat()
    assert (watchdog.rule, watchdog.state) == (WATCHDOG, REFRESHED)
    assert watchdog.ends_at == run.now + timedelta(seconds=120)
    assert watchdog.labels["alertname"] == "Watchdog"
    run.step(write_failures=3)
    beats = run.watch.beat()
    assert [(t.rule, t.state) for t in beats] == [
        (WATCHDOG, REFRESHED), ("SeismoClickHouseWritesFailing", REFRESHED)]
    assert len({t.transition_id for t in beats}) == 2


def test_only_alertmanager_is_sent_refreshes_and_it_posts_their_expiry() -> None:
    run = Run(watchdog_ttl_seconds=120, watchdog_interval_seconds=30)
    [watchdog] = run.watch.beat()
    manager = AlertmanagerNotifier("http://127.0.0.1:9093", clock=lambda: run.now)
    assert manager.accepts(watchdog)
    assert manager.payload(watchdog)[0]["endsAt"].startswith("2026-01-01T00:02:00")
    assert not WebhookNotifier("http://127.0.0.1:9", secret="s").accepts(watchdog)


def test_a_watchdog_expiring_before_its_next_resend_is_refused() -> None:
    with pytest.raises(ConfigError, match="watchdog_ttl_seconds"):
        WatchSettings(watchdog_interval_seconds=60, watchdog_ttl_seconds=60)
