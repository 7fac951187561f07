"""The worker's timers that watch its own pipeline and send the Watchdog.

See :mod:`streams.alerting.pipeline_watch` for the rules and the Watchdog convention; here
they are fed the worker's counters and wired to the alerts topic.
"""

from __future__ import annotations

import logging

import faust

from streams.alerting.pipeline_rules import (
    DEAD_LETTERS,
    NOTIFIER_FAILURES,
    RECORDS,
    WRITE_FAILURES,
)
from streams.alerting.pipeline_watch import PipelineWatch
from streams.alerting.router import AlertRouter
from streams.metrics import Metrics
from streams.settings import Settings
from streams.windows.closed import ClosedWindow
from streams.windows.service import WindowService

log = logging.getLogger(__name__)


def pipeline_counters(metrics: Metrics) -> dict[str, float]:
    """The counters the pipeline rules read, from the worker's metrics."""
    return {
        RECORDS: metrics.value("seismo_records_total"),
        DEAD_LETTERS: metrics.value("seismo_dlq_total"),
        WRITE_FAILURES: metrics.value("seismo_sink_failures_total"),
        NOTIFIER_FAILURES: metrics.total("seismo_alert_notifications_total", outcome="failed"),
    }


def consumer_lag(metrics: Metrics) -> float | None:
    """The group's lag summed over the event partitions; None until measured or when the
    broker could not be asked (a gauge of -1)."""
    values = metrics.gauges("seismo_consumer_lag")
    if not values or any(v < 0 for v in values):
        return None
    return sum(values)


def add_pipeline_watch(
    app: faust.App, settings: Settings, metrics: Metrics, windows: WindowService,
    router: AlertRouter,
) -> PipelineWatch | None:
    """Evaluate the pipeline rules every ``watch_check_seconds`` and send the Watchdog every
    ``watchdog_interval_seconds`` (nothing when ``watch_enabled`` is off)."""
    if not settings.watch_enabled:
        return None
    watch = PipelineWatch(settings.watch, settings.drift.drift_field_list())
    on_outcome = windows.on_outcome

    async def outcome_and_watch(window: ClosedWindow) -> None:
        if on_outcome is not None:
            await on_outcome(window)
        watch.window_closed(window)

    windows.on_outcome = outcome_and_watch

    # Each timer logs what fails and carries on: watching the pipeline must never be what
    # stops it (a timer that raises would stop the worker's app).
    @app.timer(interval=settings.watch_check_seconds)
    async def check_pipeline() -> None:
        try:
            transitions = watch.check(pipeline_counters(metrics), consumer_lag(metrics),
                                      windows.clock.due())
            # Published first, then stored: with ClickHouse refusing writes the alert about it
            # still reaches the topic, and only its row is missing.
            await router.announce(transitions)
        except Exception:
            log.exception("a pipeline alert could not be evaluated, sent or stored")

    @app.timer(interval=settings.watchdog_interval_seconds)
    async def send_watchdog() -> None:
        try:
            # Not stored: a row a minute would say nothing the alerts topic does not.
            await router.send(watch.beat())
        except Exception:  # the broker is away: the Watchdog expiring says so at Alertmanager
            log.exception("the Watchdog could not be sent")

    return watch
