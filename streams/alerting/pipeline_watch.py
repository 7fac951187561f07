"""Seismo watching itself: the pipeline rules' transitions, and the Watchdog.

The worker calls :meth:`PipelineWatch.check` every ``watch_check_seconds`` with its counters;
the rules of :mod:`streams.alerting.pipeline_rules` advance one :class:`AlertState` each, and
their transitions (app ``seismo``, model ``pipeline``) go the way every alert goes: the alerts
topic, the ``alerts`` table, the notifiers. Every ``watchdog_interval_seconds``
:meth:`PipelineWatch.beat` makes the Watchdog, an alert that always fires, and re-announces
each firing pipeline alert, all as ``refreshed`` transitions whose ``ends_at`` is
``watchdog_ttl_seconds`` ahead (Alertmanager's dead man's switch convention): they are sent
to Alertmanager only, and once the worker stops re-announcing them they expire there. A
firing pipeline alert is posted with the same expiry, since Alertmanager keeps the later of
two explicit ``endsAt`` of one alert.

State lives in memory: the counters behind it count from the worker's start too, and what a
dead worker left firing expires at Alertmanager by itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

from schemas.tables import DRIFT_COLUMNS
from streams.alerting.pipeline_rules import (
    PIPELINE_RULES,
    PipelineCheck,
    PipelineHistory,
    PipelineRule,
    PipelineSample,
)
from streams.alerting.state import AlertState
from streams.alerting.transitions import (
    FIRING,
    REFRESHED,
    RESOLVED,
    Transition,
    fingerprint,
    transition_id,
)
from streams.settings.watch import WatchSettings
from streams.windows.closed import ClosedWindow

APP = "seismo"
MODEL = "pipeline"
WATCHDOG = "Watchdog"
WATCHDOG_SUMMARY = (
    "Seismo's worker is alive and its alerts reach Alertmanager. This alert always fires; "
    "route it to a dead man's switch, which pages when it stops arriving.")
_FIELD = DRIFT_COLUMNS.index("field")
_SAMPLED = DRIFT_COLUMNS.index("sampled_fraction")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PipelineWatch:
    """The pipeline rules' states and the Watchdog of one worker.

    Parameters
    ----------
    settings : WatchSettings
        Thresholds, spans, the check interval and the Watchdog's expiry.
    embedded_fields : iterable of str
        The fields whose drift rows carry the embedding stage's sampled fraction.
    rules : tuple of PipelineRule
        By default :data:`~streams.alerting.pipeline_rules.PIPELINE_RULES`.
    clock : callable
        The current UTC time; for tests.
    """

    def __init__(
        self, settings: WatchSettings, embedded_fields: Iterable[str] = ("prompt", "completion"),
        rules: tuple[PipelineRule, ...] = PIPELINE_RULES,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.settings = settings
        self.rules = rules
        self.embedded_fields = frozenset(embedded_fields)
        self._clock = clock
        longest = max(settings.watch_lag_growth_seconds, settings.watch_dlq_span_seconds
                      + settings.watch_dlq_baseline_seconds, settings.watch_sampled_span_seconds,
                      settings.watch_write_failure_seconds, settings.watch_notifier_span_seconds)
        self.history = PipelineHistory(timedelta(seconds=longest + settings.watch_check_seconds))
        self.states = {rule.name: AlertState() for rule in rules}
        self._last: dict[str, PipelineCheck] = {}
        self._sampled: list[float] = []

    def window_closed(self, window: ClosedWindow) -> None:
        """Note the sampled fraction of a closed window's embedded fields (the lowest)."""
        fractions = [float(row[_SAMPLED]) for row in window.drift_rows
                     if row[_FIELD] in self.embedded_fields]
        if fractions:
            self._sampled.append(min(fractions))

    def check(self, counters: Mapping[str, float], lag: float | None,
              due: Iterable[Hashable]) -> list[Transition]:
        """Take a sample of the worker's counters; return the transitions the rules make."""
        now = self._clock()
        self.history.add(PipelineSample(now, dict(counters), lag, frozenset(due),
                                        tuple(self._sampled)))
        self._sampled.clear()
        transitions = []
        for rule in self.rules:
            verdict = rule.evaluate(self.history, self.settings)
            if verdict is None:
                continue
            self._last[rule.name] = verdict
            state = self.states[rule.name]
            starts_at = state.starts_at or now
            change = state.advance(verdict.condition, now, rule.for_checks(self.settings),
                                   rule.resolve_checks(self.settings))
            if change is not None:
                transitions.append(self._transition(
                    rule.name, rule.severity, change, verdict, starts_at, now,
                    {"description": rule.description}))
        return transitions

    def beat(self) -> list[Transition]:
        """The Watchdog and every firing pipeline alert, re-announced with a new expiry."""
        now = self._clock()
        watchdog = PipelineCheck(True, math.nan, WATCHDOG_SUMMARY)
        beats = [self._transition(WATCHDOG, "none", REFRESHED, watchdog, now, now)]
        for rule in self.rules:
            state = self.states[rule.name]
            if state.phase == FIRING:
                beats.append(self._transition(
                    rule.name, rule.severity, REFRESHED, self._last[rule.name],
                    state.starts_at or now, now, {"description": rule.description}))
        return beats

    def _transition(
        self, rule: str, severity: str, change: str, verdict: PipelineCheck,
        starts_at: datetime, now: datetime, annotations: Mapping[str, str] | None = None,
    ) -> Transition:
        fp = fingerprint(rule, APP, MODEL, "")
        if change == RESOLVED:
            ends_at: datetime | None = now
        elif change in (FIRING, REFRESHED):
            ends_at = now + timedelta(seconds=self.settings.watchdog_ttl_seconds)
        else:
            ends_at = None
        # The check's span as the "window": one check interval before it.
        start = now - timedelta(seconds=self.settings.watch_check_seconds)
        return Transition(
            transition_id=transition_id(fp, change, now), fingerprint=fp, rule=rule,
            state=change, severity=severity, app=APP, model=MODEL, prompt_version="",
            value=verdict.value, window_start=start, window_end=now, starts_at=starts_at,
            ends_at=ends_at, transition_at=now,
            labels={"alertname": rule, "severity": severity, "app": APP, "model": MODEL},
            annotations={"summary": verdict.summary, **(annotations or {})},
        )
