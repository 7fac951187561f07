"""Notifiers: one module per receiver, all sharing :class:`Notifier`'s retries and scrubbing."""

from streams.alerting.notifiers.alertmanager import AlertmanagerNotifier
from streams.alerting.notifiers.base import DEFAULT_STATES, HttpRequest, Notifier
from streams.alerting.notifiers.config import build_notifiers, retry_policy
from streams.alerting.notifiers.pagerduty import PagerDutyNotifier
from streams.alerting.notifiers.slack import SlackNotifier
from streams.alerting.notifiers.webhook import (
    SIGNATURE_HEADER,
    WebhookNotifier,
    sign,
    verify_signature,
)

__all__ = [
    "DEFAULT_STATES",
    "SIGNATURE_HEADER",
    "AlertmanagerNotifier",
    "HttpRequest",
    "Notifier",
    "PagerDutyNotifier",
    "SlackNotifier",
    "WebhookNotifier",
    "build_notifiers",
    "retry_policy",
    "sign",
    "verify_signature",
]
