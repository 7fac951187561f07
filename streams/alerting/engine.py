"""Turns closed windows into alert transitions, one stream key at a time."""

from __future__ import annotations

import logging
from datetime import datetime

from detectors.change import sequential
from schemas.alert_rules import Rule, RuleSet
from streams.alerting.budget import Budget
from streams.alerting.selectors import Observation, observe
from streams.alerting.state import AlertState, AlertStates
from streams.alerting.transitions import (
    CANCELLED,
    RESOLVED,
    Transition,
    fingerprint,
    transition_id,
)
from streams.settings import AlertingSettings, WindowSettings
from streams.windows.closed import ClosedWindow

log = logging.getLogger(__name__)


class AlertEngine:
    """Evaluates every rule on a closed window and advances the alerts' state machines.

    Parameters
    ----------
    rules : RuleSet
        The validated rules (see :func:`streams.alerting.rules.load_rules`).
    budget : Budget, optional
        The false-page budget that sets the sequential rules' levels; by default the
        settings' defaults (``false_pages_per_week``, ``window_seconds``).

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> from streams.alerting.rules import parse_rules
    >>> from streams.windows.clock import StreamKey
    >>> rules = parse_rules({"rules": [{"name": "errors", "severity": "warning",
    ...     "signal": {"metric": "error_rate", "op": ">", "threshold": 0.05}}]})
    >>> engine, states = AlertEngine(rules), AlertStates()
    >>> start = datetime(2024, 1, 1, tzinfo=UTC)
    >>> for i, rate in enumerate([0.1, 0.2, 0.0, 0.0]):
    ...     window = ClosedWindow(StreamKey("chat", "gpt-4o"), start + timedelta(minutes=i),
    ...                           start + timedelta(minutes=i + 1), {"error_rate": rate})
    ...     print([t.state for t in engine.evaluate(window, states)])
    ['pending']
    ['firing']
    []
    ['resolved']
    """

    def __init__(self, rules: RuleSet, budget: Budget | None = None) -> None:
        self.rules = rules
        if budget is None:
            budget = Budget(rules, WindowSettings().window_seconds,
                            AlertingSettings().false_pages_per_week)
        self.budget = budget

    def _condition(self, rule: Rule, observation: Observation, state: AlertState) -> bool:
        """The rule's condition in this window; a sequential rule's is its e-detector's alarm,
        at the level the budget gives it now (the evidence is capped at the threshold, so an
        ended change stops alarming within a window or two instead of draining for hours)."""
        if not rule.sequential:
            return observation.condition
        level = self.budget.level(rule.name)
        evidence = sequential.update(state.evidence, observation.p_value)
        state.evidence = min(evidence, sequential.threshold(level))
        return sequential.alarmed(state.evidence, level)

    def evaluate(self, window: ClosedWindow, states: AlertStates) -> list[Transition]:
        """Advance ``states`` (in place) by one window; return the transitions it caused.

        A window that does not start after the last one evaluated for this stream key is
        skipped, so re-processing a window after a restart emits nothing new.
        """
        if states.has_seen(window.window_start):
            log.debug("window %s of %s seen before", window.window_start, window.key)
            return []
        key = window.key
        self.budget.see((key.label(),))
        transitions = []
        for rule in self.rules:
            observation = observe(rule, window)
            if observation is None:
                continue
            fp = fingerprint(rule.name, key.app, key.model, key.prompt_version)
            state = states.get(fp)
            # The episode's start, read before the step: resolving clears it from the state.
            starts_at = state.starts_at or window.window_start
            change = state.advance(
                self._condition(rule, observation, state),
                window.window_start,
                1 if rule.sequential else rule.for_windows,
                rule.resolve_after_windows,
            )
            states.put(fp, state)
            if change is not None:
                transitions.append(
                    self._transition(rule, window, observation, fp, change, starts_at)
                )
        states.last_window_start = window.window_start
        return transitions

    def _transition(
        self,
        rule: Rule,
        window: ClosedWindow,
        observation: Observation,
        fp: str,
        change: str,
        starts_at: datetime,
    ) -> Transition:
        key = window.key
        value = observation.value
        context = {
            "rule": rule.name,
            "severity": rule.severity,
            "app": key.app,
            "model": key.model,
            "prompt_version": key.prompt_version,
            "value": value,
            "window_start": window.window_start,
            "window_end": window.window_end,
            **observation.context,
        }
        ended = change in (RESOLVED, CANCELLED)
        return Transition(
            transition_id=transition_id(fp, change, window.window_start),
            fingerprint=fp,
            rule=rule.name,
            state=change,
            severity=rule.severity,
            app=key.app,
            model=key.model,
            prompt_version=key.prompt_version,
            value=value,
            window_start=window.window_start,
            window_end=window.window_end,
            starts_at=starts_at,
            ends_at=window.window_end if ended else None,
            transition_at=window.window_end,
            labels=rule.alert_labels(key.app, key.model, key.prompt_version),
            annotations=rule.render_annotations(context),
        )
