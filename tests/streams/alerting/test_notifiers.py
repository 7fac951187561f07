"""Notifier payloads, retries and secrecy, against real HTTP receivers on loopback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from streams.alerting import NotificationFailed, NotificationRejected, RetryPolicy, Transition
from streams.alerting.notifiers import (
    SIGNATURE_HEADER,
    AlertmanagerNotifier,
    Notifier,
    PagerDutyNotifier,
    SlackNotifier,
    WebhookNotifier,
    build_notifiers,
    verify_signature,
)
from streams.exceptions import ConfigError
from streams.settings import Settings
from streams.testing.receivers import HttpReceiver
from tests.streams.alerting.factories import episode, pending_then_cancelled

FAST = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.05, timeout=5)
ROUTING_KEY = "R0UT1NGKEY-0123456789abcdef"
SECRET = "hmac-secret-do-not-log"
NOW = datetime(2024, 5, 1, 13, 0, tzinfo=UTC)


def notify(notifier: Notifier, transition: Transition) -> None:
    async def send() -> None:
        async with aiohttp.ClientSession() as session:
            await notifier.notify(session, transition)

    asyncio.run(send())


@pytest.fixture
def receiver(receiver_factory: Callable[..., HttpReceiver]) -> HttpReceiver:
    return receiver_factory()


def test_alertmanager_posts_v2_alerts_with_labels_annotations_and_times(
    receiver: HttpReceiver,
) -> None:
    firing, resolved = episode()
    notifier = AlertmanagerNotifier(receiver.url, firing_ttl=timedelta(hours=6), clock=lambda: NOW)
    notify(notifier, firing)
    notify(notifier, resolved)
    first, second = receiver.wait_for_requests(2)
    assert first.path == second.path == "/api/v2/alerts"
    [alert] = first.json()
    assert alert["labels"] == {
        "alertname": "HighErrorRate",
        "severity": "critical",
        "app": "chat",
        "model": "gpt-4o",
        "prompt_version": "v3",
        "team": "ml-platform",
        "service": "chat",
    }
    assert alert["annotations"]["summary"] == "chat/gpt-4o: 30% errors"
    assert alert["annotations"]["runbook_url"] == "https://runbooks.example.com/errors"
    assert alert["generatorURL"] == "http://grafana.example.com/d/seismo?var-app=chat"
    assert datetime.fromisoformat(alert["startsAt"]) == firing.starts_at
    assert datetime.fromisoformat(alert["endsAt"]) == NOW + timedelta(hours=6)
    [ended] = second.json()
    assert ended["labels"] == alert["labels"]
    assert datetime.fromisoformat(ended["endsAt"]) == resolved.ends_at


def test_alertmanager_is_never_sent_pending_or_cancelled() -> None:
    firing, _ = episode()
    notifier = AlertmanagerNotifier("http://127.0.0.1:9093")
    assert notifier.accepts(firing)
    assert not any(notifier.accepts(t) for t in pending_then_cancelled())
    with pytest.raises(ValueError, match="states must be a non-empty subset"):
        AlertmanagerNotifier("http://127.0.0.1:9093", states=["pending"])


def test_pagerduty_triggers_and_resolves_one_incident_by_fingerprint(
    receiver: HttpReceiver,
) -> None:
    firing, resolved = episode()
    notifier = PagerDutyNotifier(ROUTING_KEY, url=receiver.url + "/v2/enqueue")
    notify(notifier, firing)
    notify(notifier, resolved)
    trigger, resolve = (r.json() for r in receiver.wait_for_requests(2))
    assert trigger["routing_key"] == resolve["routing_key"] == ROUTING_KEY
    assert trigger["event_action"] == "trigger" and resolve["event_action"] == "resolve"
    assert trigger["dedup_key"] == resolve["dedup_key"] == firing.fingerprint
    payload = trigger["payload"]
    assert payload["summary"] == "chat/gpt-4o: 30% errors"
    assert payload["severity"] == "critical"
    assert payload["source"] == "chat/gpt-4o"
    assert payload["custom_details"]["value"] == pytest.approx(0.3)
    assert {link["text"] for link in trigger["links"]} == {"Dashboard", "Runbook"}
    assert "payload" not in resolve


def test_slack_message_has_fallback_text_and_blocks(receiver: HttpReceiver) -> None:
    firing, resolved = episode()
    notifier = SlackNotifier(receiver.url + "/services/T000/B000/XXXX")
    notify(notifier, firing)
    notify(notifier, resolved)
    first, second = (r.json() for r in receiver.wait_for_requests(2))
    assert "FIRING" in first["text"] and "chat/gpt-4o" in first["text"]
    assert "RESOLVED" in second["text"]
    header = first["blocks"][0]
    assert header["type"] == "header" and "HighErrorRate" in header["text"]["text"]
    fields = " ".join(f["text"] for f in first["blocks"][2]["fields"])
    assert "critical" in fields and "0.3" in fields
    context = first["blocks"][-1]["elements"][0]["text"]
    assert "<https://runbooks.example.com/errors|Runbook>" in context
    assert firing.transition_id in context


def test_webhook_body_is_the_record_and_its_signature_verifies(receiver: HttpReceiver) -> None:
    firing, _ = episode()
    notify(WebhookNotifier(receiver.url + "/hook", SECRET), firing)
    [request] = receiver.wait_for_requests(1)
    assert Transition.from_json(request.body) == firing
    signature = request.headers[SIGNATURE_HEADER]
    assert signature.startswith("sha256=")
    assert verify_signature(request.body, signature, SECRET)
    assert not verify_signature(request.body.replace(b"firing", b"resolved"), signature, SECRET)
    assert not verify_signature(request.body, signature, "another-secret")
    assert request.headers["X-Seismo-Transition-Id"] == firing.transition_id


def test_server_errors_are_retried_within_the_bound(receiver: HttpReceiver) -> None:
    firing, _ = episode()
    receiver.answer(503, 500)
    notify(WebhookNotifier(receiver.url, SECRET, retry=FAST), firing)
    assert len(receiver.wait_for_requests(3)) == 3  # two failures, then delivered

    receiver.answer(503, 503, 503, 503)
    with pytest.raises(NotificationFailed, match="gave up after 3 attempts"):
        notify(WebhookNotifier(receiver.url, SECRET, retry=FAST), firing)
    assert len(receiver.received) == 6  # exactly max_attempts more


def test_a_client_error_is_rejected_without_retrying(receiver: HttpReceiver) -> None:
    firing, _ = episode()
    receiver.answer(400)
    with pytest.raises(NotificationRejected, match="HTTP 400"):
        notify(PagerDutyNotifier(ROUTING_KEY, url=receiver.url, retry=FAST), firing)
    assert len(receiver.received) == 1


def test_rate_limit_is_retried(receiver: HttpReceiver) -> None:
    firing, _ = episode()
    receiver.answer(429)
    notify(SlackNotifier(receiver.url + "/services/x", retry=FAST), firing)
    assert len(receiver.wait_for_requests(2)) == 2


def test_an_unreachable_receiver_fails_after_max_attempts(
    receiver_factory: Callable[..., HttpReceiver],
) -> None:
    down = receiver_factory(started=False)
    firing, _ = episode()
    with pytest.raises(NotificationFailed, match="ClientConnectorError.*gave up after 3"):
        notify(AlertmanagerNotifier(down.url, retry=FAST), firing)


def test_secrets_never_reach_messages_or_logs(
    receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    """The receiver echoes the request in its error answer; nothing secret may be repeated."""
    firing, _ = episode()
    slack_path = "/services/T000/B000/SLACKTOKEN"
    notifiers = [
        PagerDutyNotifier(ROUTING_KEY, url=receiver.url, retry=FAST),
        SlackNotifier(receiver.url + slack_path, retry=FAST),
        WebhookNotifier(receiver.url, SECRET, retry=FAST),
    ]
    messages = []
    with caplog.at_level(logging.DEBUG):
        for notifier in notifiers:
            receiver.answer(500, 500, 500)
            with pytest.raises(NotificationFailed) as failure:
                notify(notifier, firing)
            messages.append(str(failure.value))
            messages.append(repr(notifier))
    assert ROUTING_KEY.encode() in receiver.received[0].body  # the echo did carry it
    text = "\n".join(messages) + caplog.text
    assert "***" in text  # the echoed secret was scrubbed, not merely absent
    for secret in (ROUTING_KEY, slack_path, SECRET):
        assert secret not in text


def test_config_builds_the_enabled_notifiers_reading_secrets_from_files(tmp_path: Path) -> None:
    key_file = tmp_path / "pd-key"
    key_file.write_text(ROUTING_KEY + "\n")
    config = Settings(
        alertmanager_urls="http://am-1:9093, http://am-2:9093",
        pagerduty_routing_key_file=str(key_file),
        pagerduty_severities="critical,error",
        webhook_url="https://hooks.example.com/seismo",
        webhook_secret=SECRET,
        webhook_states="pending,firing,resolved,cancelled",
    )
    built = build_notifiers(config)
    assert [n.name for n in built] == ["alertmanager-1", "alertmanager-2", "pagerduty", "webhook"]
    pagerduty = built[2]
    assert isinstance(pagerduty, PagerDutyNotifier) and pagerduty.secrets() == (ROUTING_KEY,)
    firing, _ = episode()
    warning, _ = episode(severity="warning")
    assert pagerduty.accepts(firing) and not pagerduty.accepts(warning)
    assert all(built[3].accepts(t) for t in pending_then_cancelled())
    assert SECRET not in repr(config) and build_notifiers(Settings()) == []


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"alertmanager_urls": "am:9093"}, "alertmanager_urls"),
        ({"webhook_url": "https://h.example.com"}, "webhook_secret"),
        ({"slack_webhook_url": "hooks.slack.com/x"}, "slack_webhook_url"),
        ({"pagerduty_routing_key": "k", "pagerduty_severities": "sev1"}, "pagerduty_severities"),
        (
            {"pagerduty_routing_key": "k", "pagerduty_routing_key_file": "f"},
            "pagerduty_routing_key",
        ),
        ({"webhook_secret_file": "/nonexistent/secret", "webhook_url": "http://h"}, "_file"),
        ({"notify_max_attempts": 0}, "notify_"),
    ],
)
def test_a_bad_notifier_setting_is_one_line_naming_it(settings: dict, named: str) -> None:
    with pytest.raises(ConfigError) as error:
        build_notifiers(Settings(**settings))
    assert named in error.value.setting
    assert "hooks.slack.com/x" not in str(error.value)
