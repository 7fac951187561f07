"""The ``alerting`` section: the rule file and the notifiers (each on when its URL or key is set).

The notifier settings are checked where the notifiers are built
(:func:`streams.alerting.build_notifiers`), which knows the severities and states they name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from streams.settings.base import Section, check_positive, setting

DEFAULT_RULES = Path(__file__).resolve().parent.parent / "alerting" / "default_rules.yaml"
SEVERITIES_DOC = "severities sent, comma-separated (empty: all)"


@dataclass(frozen=True, slots=True)
class AlertingSettings(Section):
    alerts_file: str = setting(
        "", "the alert rule YAML", shown="packaged default rules")
    false_pages_per_week: float = setting(
        1.0, "the false-page budget of the whole deployment: the sequential alert rules' "
        "levels are derived from it (README: Alerting budget)")
    alertmanager_urls: str = setting("", "Alertmanager API v2 endpoints, comma-separated")
    alertmanager_firing_ttl_seconds: float = setting(
        86400.0, "how long a firing alert stays up in Alertmanager without its resolve")
    pagerduty_routing_key: str = setting("", "PagerDuty Events v2 routing key", secret=True)
    pagerduty_routing_key_file: str = setting("", "a file holding `pagerduty_routing_key`")
    pagerduty_url: str = setting(
        "https://events.pagerduty.com/v2/enqueue", "PagerDuty's Events v2 endpoint")
    pagerduty_severities: str = setting("", "PagerDuty: " + SEVERITIES_DOC)
    slack_webhook_url: str = setting("", "Slack incoming webhook", secret=True)
    slack_webhook_url_file: str = setting("", "a file holding `slack_webhook_url`")
    slack_severities: str = setting("", "Slack: " + SEVERITIES_DOC)
    webhook_url: str = setting(
        "", "generic webhook, body signed `X-Seismo-Signature: sha256=<HMAC-SHA256>`")
    webhook_secret: str = setting("", "the generic webhook's HMAC key", secret=True)
    webhook_secret_file: str = setting("", "a file holding `webhook_secret`")
    webhook_states: str = setting("firing,resolved", "transitions the generic webhook is sent")
    notify_max_attempts: int = setting(4, "tries of one notifier call")
    notify_timeout_seconds: float = setting(10.0, "seconds one notifier call may take")
    notify_initial_backoff_seconds: float = setting(0.5, "first wait between tries")
    notify_max_backoff_seconds: float = setting(
        30.0, "longest wait between tries (the delivery agent then retries the record until "
        "it is taken)")

    def __post_init__(self) -> None:
        check_positive(self, "false_pages_per_week")

    @property
    def alert_rules_path(self) -> Path:
        return Path(self.alerts_file) if self.alerts_file else DEFAULT_RULES
