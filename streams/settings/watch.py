"""The ``watch`` section: Seismo's alerts on its own pipeline, and the Watchdog.

Defaults and why they are what they are: README, "Seismo watches itself".
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.settings.base import Section, check, check_at_least, check_positive, setting


@dataclass(frozen=True, slots=True)
class WatchSettings(Section):
    watch_enabled: bool = setting(True, "alert on the worker's own pipeline and send the Watchdog")
    watch_check_seconds: float = setting(15.0, "how often the pipeline rules are evaluated")
    watchdog_interval_seconds: float = setting(
        60.0, "how often the always-firing `Watchdog` (and every firing pipeline alert) is "
        "re-sent to Alertmanager")
    watchdog_ttl_seconds: float = setting(
        300.0, "`endsAt` ahead of each re-send: this long after the worker's last one, "
        "Alertmanager lets the alert expire")
    watch_lag_min_records: int = setting(
        1000, "consumer lag below this never pages (a batch in flight is not a backlog)")
    watch_lag_growth_seconds: float = setting(
        300.0, "consumer lag must have grown over this span to page")
    watch_dlq_span_seconds: float = setting(
        300.0, "the span whose dead-letter fraction is tested against the usual level")
    watch_dlq_baseline_seconds: float = setting(
        3600.0, "the trailing span before it that gives the usual dead-letter fraction")
    watch_dlq_floor_fraction: float = setting(
        0.001, "the usual dead-letter fraction assumed while the baseline saw less")
    watch_dlq_min_records: int = setting(
        10, "fewer dead letters in the span never page")
    watch_alpha: float = setting(
        1e-5, "level of the dead-letter test (binomial, one-sided) at each check")
    watch_write_failures: int = setting(
        3, "failed ClickHouse inserts within `watch_write_failure_seconds` that page")
    watch_write_failure_seconds: float = setting(
        60.0, "the span failed ClickHouse inserts are counted over")
    watch_window_behind_seconds: float = setting(
        300.0, "a window due to close and still open this long pages")
    watch_min_sampled_fraction: float = setting(
        0.05, "windows embedding a smaller share of their events than this, for "
        "`watch_sampled_span_seconds`, page")
    watch_sampled_span_seconds: float = setting(
        900.0, "the span of closed windows the sampled fraction is judged on")
    watch_notifier_failures: int = setting(
        3, "failed notifier calls within `watch_notifier_span_seconds` that page")
    watch_notifier_span_seconds: float = setting(
        300.0, "the span failed notifier calls are counted over")

    def __post_init__(self) -> None:
        check_positive(
            self, "watch_check_seconds", "watchdog_interval_seconds", "watchdog_ttl_seconds",
            "watch_lag_growth_seconds", "watch_dlq_span_seconds", "watch_dlq_baseline_seconds",
            "watch_write_failure_seconds", "watch_window_behind_seconds",
            "watch_sampled_span_seconds", "watch_notifier_span_seconds",
        )
        check(self.watchdog_ttl_seconds > self.watchdog_interval_seconds,
              "watchdog_ttl_seconds", "must be longer than watchdog_interval_seconds (else the "
              "Watchdog expires between two re-sends)")
        check(0 < self.watch_alpha < 1, "watch_alpha", "must be in (0, 1)")
        check(0 < self.watch_dlq_floor_fraction < 1, "watch_dlq_floor_fraction",
              "must be in (0, 1)")
        check(0 <= self.watch_min_sampled_fraction <= 1, "watch_min_sampled_fraction",
              "must be in [0, 1]")
        check_at_least(self, 1, "watch_lag_min_records", "watch_dlq_min_records",
                       "watch_write_failures", "watch_notifier_failures")
