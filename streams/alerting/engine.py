"""Turns closed windows into alert transitions, one stream key at a time."""

from __future__ import annotations

import logging
from datetime import datetime

from streams.alerting.outcome import WindowOutcome
from streams.alerting.rules import Rule, RuleSet
from streams.alerting.signals import Observation
from streams.alerting.state import AlertStates
from streams.alerting.transitions import (
    CANCELLED,
    RESOLVED,
    Transition,
    fingerprint,
    transition_id,
)

log = logging.getLogger(__name__)


def stream_key(outcome: WindowOutcome) -> str:
    """The key the worker keeps an :class:`AlertStates` under (one per stream key)."""
    return "/".join((outcome.app, outcome.model, outcome.prompt_version))


class AlertEngine:
    """Evaluates every rule on a closed window and advances the alerts' state machines.

    Parameters
    ----------
    rules : RuleSet
        The validated rules (see :func:`streams.alerting.rules.load_rules`).

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> from streams.alerting.rules import parse_rules
    >>> rules = parse_rules({"rules": [{"name": "errors", "severity": "warning",
    ...     "signal": {"metric": "error_rate", "op": ">", "threshold": 0.05}}]})
    >>> engine, states = AlertEngine(rules), AlertStates()
    >>> start = datetime(2024, 1, 1, tzinfo=UTC)
    >>> for i, rate in enumerate([0.1, 0.2, 0.0, 0.0]):
    ...     window = WindowOutcome("chat", "gpt-4o", "", start + timedelta(minutes=i),
    ...                            start + timedelta(minutes=i + 1), {"error_rate": rate})
    ...     print([t.state for t in engine.evaluate(window, states)])
    ['pending']
    ['firing']
    []
    ['resolved']
    """

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules

    def evaluate(self, outcome: WindowOutcome, states: AlertStates) -> list[Transition]:
        """Advance ``states`` (in place) by one window; return the transitions it caused.

        A window that does not start after the last one evaluated for this stream key is
        skipped, so re-processing a window after a restart emits nothing new.
        """
        if states.has_seen(outcome.window_start):
            log.debug("window %s of %s seen before", outcome.window_start, stream_key(outcome))
            return []
        transitions = []
        for rule in self.rules:
            observation = rule.observe(outcome)
            if observation is None:
                continue
            fp = fingerprint(rule.name, outcome.app, outcome.model, outcome.prompt_version)
            state = states.get(fp)
            # The episode's start, read before the step: resolving clears it from the state.
            starts_at = state.starts_at or outcome.window_start
            change = state.advance(
                observation.condition,
                outcome.window_start,
                rule.for_windows,
                rule.resolve_after_windows,
            )
            states.put(fp, state)
            if change is not None:
                transitions.append(
                    self._transition(rule, outcome, observation, fp, change, starts_at)
                )
        states.last_window_start = outcome.window_start
        return transitions

    def _transition(
        self,
        rule: Rule,
        outcome: WindowOutcome,
        observation: Observation,
        fp: str,
        change: str,
        starts_at: datetime,
    ) -> Transition:
        value = observation.value
        context = {
            "rule": rule.name,
            "severity": rule.severity,
            "app": outcome.app,
            "model": outcome.model,
            "prompt_version": outcome.prompt_version,
            "value": value,
            "window_start": outcome.window_start,
            "window_end": outcome.window_end,
            **observation.context,
        }
        ended = change in (RESOLVED, CANCELLED)
        return Transition(
            transition_id=transition_id(fp, change, outcome.window_start),
            fingerprint=fp,
            rule=rule.name,
            state=change,
            severity=rule.severity,
            app=outcome.app,
            model=outcome.model,
            prompt_version=outcome.prompt_version,
            value=value,
            window_start=outcome.window_start,
            window_end=outcome.window_end,
            starts_at=starts_at,
            ends_at=outcome.window_end if ended else None,
            transition_at=outcome.window_end,
            labels=rule.alert_labels(outcome.app, outcome.model, outcome.prompt_version),
            annotations=rule.render_annotations(context),
        )
