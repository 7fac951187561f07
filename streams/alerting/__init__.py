"""Alerting: rules turn closed windows into alert transitions, delivered to notifiers.

The worker's part (:class:`~streams.alerting.router.AlertRouter`), per closed window of a
stream key::

    states = AlertStates.from_dict(saved.get(key))        # from `alert_states`: survives restarts
    for transition in engine.evaluate(outcome, states):    # idempotent on window_start
        ...send transition.to_json() to seismo.alerts, add transition.to_row() to `alerts`
    saved[key] = states.to_dict()                          # and a row of `alert_states`

and a consumer of ``seismo.alerts`` that runs :meth:`AlertDelivery.run`.
"""

from schemas.alert_rules import DetectorSelector, MetricSelector, Rule, RuleSet
from schemas.tables import ALERTS
from streams.alerting.delivery import AlertDelivery
from streams.alerting.engine import AlertEngine
from streams.alerting.exceptions import (
    AlertingError,
    NotificationFailed,
    NotificationRejected,
    RuleFileError,
)
from streams.alerting.notifiers import build_notifiers, retry_policy
from streams.alerting.retry import RetryPolicy
from streams.alerting.rules import load_rules, parse_rules
from streams.alerting.state import AlertState, AlertStates
from streams.alerting.transitions import (
    ALERT_COLUMNS,
    CANCELLED,
    FIRING,
    PENDING,
    RESOLVED,
    Transition,
    fingerprint,
    transition_id,
)

__all__ = [
    "ALERTS",
    "ALERT_COLUMNS",
    "CANCELLED",
    "FIRING",
    "PENDING",
    "RESOLVED",
    "AlertDelivery",
    "AlertEngine",
    "AlertState",
    "AlertStates",
    "AlertingError",
    "DetectorSelector",
    "MetricSelector",
    "NotificationFailed",
    "NotificationRejected",
    "RetryPolicy",
    "Rule",
    "RuleFileError",
    "RuleSet",
    "Transition",
    "build_notifiers",
    "fingerprint",
    "load_rules",
    "retry_policy",
    "parse_rules",
    "transition_id",
]
