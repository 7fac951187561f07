"""The notifiers a deployment configures, built from its :class:`~streams.settings.Settings`.

Each secret can be given directly or as a ``*_file`` path (a mounted secret); the value is
never logged and not part of the settings' ``repr``.
"""

from __future__ import annotations

from datetime import timedelta

from schemas.alert_rules import SEVERITIES
from streams.alerting.notifiers.alertmanager import AlertmanagerNotifier
from streams.alerting.notifiers.base import Notifier, is_http_url
from streams.alerting.notifiers.pagerduty import PagerDutyNotifier
from streams.alerting.notifiers.slack import SlackNotifier
from streams.alerting.notifiers.webhook import WebhookNotifier
from streams.alerting.retry import RetryPolicy
from streams.alerting.transitions import STATES
from streams.exceptions import ConfigError
from streams.settings import Settings


def retry_policy(settings: Settings) -> RetryPolicy:
    """How hard each notifier call tries, from the ``notify_*`` settings."""
    try:
        return RetryPolicy(
            max_attempts=settings.notify_max_attempts,
            initial_backoff=settings.notify_initial_backoff_seconds,
            max_backoff=settings.notify_max_backoff_seconds,
            timeout=settings.notify_timeout_seconds,
        )
    except ValueError as exc:
        raise ConfigError("notify_*", str(exc)) from None


def build_notifiers(config: Settings) -> list[Notifier]:
    """The configured notifiers; a bad value is one :class:`ConfigError` naming the setting.

    A receiver is enabled by setting its URL (or routing key). Comma-separated lists:
    ``alertmanager_urls`` (one notifier per Alertmanager, as for an HA pair),
    ``*_severities`` and ``webhook_states`` (empty severities: all).
    """
    retry = retry_policy(config)
    notifiers: list[Notifier] = []
    urls = _items(config.alertmanager_urls)
    for index, url in enumerate(urls, start=1):
        notifiers.append(
            AlertmanagerNotifier(
                _url(url, "alertmanager_urls"),
                name="alertmanager" if len(urls) == 1 else f"alertmanager-{index}",
                firing_ttl=_ttl(config.alertmanager_firing_ttl_seconds),
                retry=retry,
            )
        )
    routing_key = config.secret("pagerduty_routing_key")
    if routing_key:
        notifiers.append(
            PagerDutyNotifier(
                routing_key,
                url=_url(config.pagerduty_url, "pagerduty_url"),
                severities=_choices(
                    config.pagerduty_severities, "pagerduty_severities", SEVERITIES
                ),
                retry=retry,
            )
        )
    slack_url = config.secret("slack_webhook_url")
    if slack_url:
        notifiers.append(
            SlackNotifier(
                _url(slack_url, "slack_webhook_url"),
                severities=_choices(config.slack_severities, "slack_severities", SEVERITIES),
                retry=retry,
            )
        )
    if config.webhook_url:
        secret = config.secret("webhook_secret")
        if not secret:
            raise ConfigError("webhook_secret", "is required when webhook_url is set")
        states = _choices(config.webhook_states, "webhook_states", STATES)
        if not states:
            raise ConfigError("webhook_states", f"must name some of {', '.join(STATES)}")
        notifiers.append(
            WebhookNotifier(
                _url(config.webhook_url, "webhook_url"),
                secret,
                states=states,
                retry=retry,
            )
        )
    return notifiers


def _url(value: str, setting: str) -> str:
    if not is_http_url(value):
        # The value is not echoed: a Slack webhook URL is a credential.
        raise ConfigError(setting, "must be an http:// or https:// URL with a host")
    return value


def _choices(text: str, setting: str, allowed: tuple[str, ...]) -> list[str] | None:
    """The comma-separated items of ``text`` (None when empty), each one of ``allowed``."""
    items = _items(text)
    for item in items:
        if item not in allowed:
            raise ConfigError(setting, f"{item!r} is not one of {', '.join(allowed)}")
    return items or None


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _ttl(seconds: float) -> timedelta:
    if seconds <= 0:
        raise ConfigError("alertmanager_firing_ttl_seconds", "must be positive")
    return timedelta(seconds=seconds)
