"""Secrets stay secret: configured credentials never reach the worker's logs, and the redaction
policy covers what the worker forwards to the DLQ as much as what it stores.

The notifiers' credentials are live, not just configured: the alert receivers answer with
errors that echo each request back (as some receivers do), so the worker's failure and retry
messages are exactly where a credential would leak. The Kafka password and the redaction salt
are configured but unused (a PLAINTEXT broker, the redact policy): they would leak only if the
settings themselves were logged.
"""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import UTC, datetime, timedelta

from streams.alerting.notifiers.webhook import SIGNATURE_HEADER
from streams.alerting.transitions import FIRING, Transition, fingerprint, transition_id
from streams.kafka.admin import ensure_topics
from tests.support.faults import COUNT_FINAL
from tests.support.workers import Deployment, produce_raw, read_topic, wait_for

SASL_PASSWORD = "kafka-pw-Zx81Qe7LmN3v"
WEBHOOK_SECRET = "whsec-Hq27Vt9KpR4s"
PAGERDUTY_KEY = "pdkey0c4f7a1e9b2d3c5f6a8b9c0d1e2f3a"
SLACK_TOKEN = "slackhook8Jd3Kf0Lq2Ws"
REDACTION_SALT = "salt-Mv5Xc2Bn7Qw1"
SECRETS = (SASL_PASSWORD, WEBHOOK_SECRET, PAGERDUTY_KEY, SLACK_TOKEN, REDACTION_SALT)

AWS_KEY = "AKIAZ7Q3XKD2L5MNB4PR"
OPENAI_KEY = "sk-proj-4fGh81KdPq02LmZx7TbW9sVc"
EMAIL = "jane.doe@example.org"


def firing_transition() -> Transition:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    key = fingerprint("HighErrorRate", "support-bot", "gpt-4o-mini", "")
    return Transition(
        transition_id=transition_id(key, FIRING, start), fingerprint=key,
        rule="HighErrorRate", state=FIRING, severity="critical", app="support-bot",
        model="gpt-4o-mini", prompt_version="", value=0.4, window_start=start,
        window_end=start + timedelta(minutes=5), starts_at=start, ends_at=None,
        transition_at=start + timedelta(minutes=5),
        labels={"alertname": "HighErrorRate", "severity": "critical"},
        annotations={"summary": "error rate 40 %"},
    )


def worker_logs(dep: Deployment) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted(dep.root.glob("worker-*.log")))


def test_credentials_never_reach_the_logs_and_the_dlq_copy_is_redacted(
    deployment: Deployment, receiver_factory
) -> None:
    receiver = receiver_factory()
    # Every notifier's first two calls fail with the request echoed back, then it is refused
    # for good: both retry and give-up messages get written.
    receiver.answer(*[503] * 6, *[400] * 3)
    deployment.extra_env.update({
        "SEISMO_EMBEDDING_ENABLED": "false",
        "SEISMO_KAFKA_SASL_USERNAME": "seismo",
        "SEISMO_KAFKA_SASL_PASSWORD": SASL_PASSWORD,
        "SEISMO_REDACTION_SALT": REDACTION_SALT,
        "SEISMO_WEBHOOK_URL": f"{receiver.url}/hook",
        "SEISMO_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SEISMO_PAGERDUTY_URL": f"{receiver.url}/pagerduty",
        "SEISMO_PAGERDUTY_ROUTING_KEY": PAGERDUTY_KEY,
        "SEISMO_SLACK_WEBHOOK_URL": f"{receiver.url}/services/T0/B0/{SLACK_TOKEN}",
        "SEISMO_NOTIFY_MAX_ATTEMPTS": "3",
        "SEISMO_NOTIFY_INITIAL_BACKOFF_SECONDS": "0.05",
    })
    leaky = f"key {AWS_KEY} and {OPENAI_KEY}, mail {EMAIL}"
    malformed = ('{"event_id": "m1", "prompt": "' + leaky + '", "latency_ms": ').encode()
    valid = json.dumps({
        "event_id": "v1", "timestamp": datetime.now(UTC).isoformat(), "app": "support-bot",
        "model": "gpt-4o-mini", "latency_ms": 420.0, "prompt": leaky, "completion": leaky,
    }).encode()
    produce_raw(deployment.bootstrap, deployment.traces_topic, [malformed, valid])
    # An alert transition, as the worker's own router publishes them (the topic is created
    # first, with the partitions the worker expects).
    alerts = deployment.env()["SEISMO_ALERTS_TOPIC"]
    asyncio.run(ensure_topics(deployment.bootstrap, {alerts: 4}))
    produce_raw(deployment.bootstrap, alerts, [firing_transition().to_json()])
    deployment.start()

    # The DLQ copy of the malformed record: the policy's tags in place of the values.
    [dead] = read_topic(deployment.bootstrap, deployment.dlq_topic, 1)
    text = dead.value.decode()
    assert AWS_KEY not in text and OPENAI_KEY not in text and EMAIL not in text
    assert "<SECRET:" in text and "<EMAIL>" in text
    assert '"event_id": "m1"' in text  # the rest of the record is kept for a replay
    deployment.wait_rows(COUNT_FINAL, 1)
    stored = deployment.query("SELECT prompt, completion FROM events FINAL")[0]
    assert all(AWS_KEY not in t and OPENAI_KEY not in t and EMAIL not in t for t in stored)

    # Each notifier tried, failed, retried and was refused; its credential was really in use.
    wait_for(lambda: worker_logs(deployment).count("for good") >= 3, 60,
             "every notifier to give up")
    paths = {r.path for r in receiver.received}
    assert {"/hook", "/pagerduty", f"/services/T0/B0/{SLACK_TOKEN}"} <= paths
    assert any(PAGERDUTY_KEY.encode() in r.body for r in receiver.received)
    assert all(r.headers.get(SIGNATURE_HEADER) for r in receiver.received
               if r.path == "/hook")
    assert deployment.stop(signal.SIGTERM) == 0

    logs = worker_logs(deployment)
    assert "attempt 1/3" in logs and "refused transition" in logs
    for secret in (*SECRETS, AWS_KEY, OPENAI_KEY, EMAIL):
        assert secret not in logs, f"{secret[:6]}… appears in the worker's log"
