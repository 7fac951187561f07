"""Every text field an app fills is redacted before it is stored, logged or dead-lettered, and
what it held is counted: a value of each kind the scanners know, planted in each field of a
trace event, in feedback and in malformed records, is found in no table, no log line and no
DLQ record, and every planted field counts in its event's PII or secret signal."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta

from schemas.tables import DEPLOYMENT_SECRETS
from streams.ingest.scan import TEXT_FIELDS
from streams.store.client import ClickHouseStore
from tests.support.faults import COUNT_FINAL, FAST_WINDOWS_ENV
from tests.support.workers import Deployment, produce_raw, read_topic

# kind: (the value planted, the part of it that must appear nowhere). Each is short enough
# for an identifier field (256 characters), and Luhn-, checksum- or format-valid.
PLANTED = {
    "email": ("jane.doe@example.org", "jane.doe@example.org"),
    "card": ("4539 1488 0343 6467", "4539 1488 0343 6467"),
    "iban": ("GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 32"),
    "phone": ("+44 20 7946 0958", "+44 20 7946 0958"),
    "aws_key_id": ("AKIAZ7Q3XKD2L5MNB4PR", "AKIAZ7Q3XKD2L5MNB4PR"),
    "aws_secret": ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
                   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"),
    "sk_key": ("sk-proj-4fGh81KdPq02LmZx7TbW9sVc", "sk-proj-4fGh81KdPq02LmZx7TbW9sVc"),
    "jwt": ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
            "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "eyJzdWIiOiIxMjM0NTY3ODkwIn0"),
    "private_key": ("-----BEGIN RSA PRIVATE KEY-----\n"
                    "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n"
                    "-----END RSA PRIVATE KEY-----",
                    "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu"),
}
NEEDLES = [needle for _, needle in PLANTED.values()]
# Where a value can go: every text field, a metadata key and value, the ids and the texts.
FIELDS = (*TEXT_FIELDS, "metadata_key", "metadata_value", "user_id", "prompt", "completion",
          "reference")
FEEDBACK_FIELDS = ("comment", "source")


def trace_event(field: str, kind: str, timestamp: str) -> dict:
    value = f"x {PLANTED[kind][0]}"
    event = {"event_id": f"{field}.{kind}", "timestamp": timestamp, "app": "support-bot",
             "model": "gpt-4o-mini", "latency_ms": 120.0, "prompt": "hello",
             "completion": "hi", "metadata": {"client": "web"}}
    if field == "metadata_key":
        event["metadata"] = {value: "web"}
    elif field == "metadata_value":
        event["metadata"] = {"client": value}
    else:
        event[field] = value
    return event


def malformed(kind: str, timestamp: str) -> list[bytes]:
    """Records the DLQ gets, each echoing the value: cut short (invalid JSON), and valid JSON
    failing the schema where the validator's message quotes the value (``status``)."""
    value = PLANTED[kind][0]
    cut = json.dumps({"event_id": f"cut.{kind}", "prompt": value})[:-1] + ', "latency_ms": '
    schema = json.dumps({"event_id": f"schema.{kind}", "timestamp": timestamp,
                         "app": "support-bot", "model": "gpt-4o-mini", "latency_ms": 1.0,
                         "prompt": "hello", "status": value})
    return [cut.encode(), schema.encode()]


def leaks(text: str) -> list[str]:
    return [needle[:12] + "…" for needle in NEEDLES if needle in text]


def test_no_planted_value_is_stored_logged_or_dead_lettered_and_each_is_counted(
    deployment: Deployment,
) -> None:
    deployment.extra_env.update(FAST_WINDOWS_ENV)
    timestamp = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    events = [trace_event(f, k, timestamp) for f in FIELDS for k in PLANTED]
    # One trace per feedback: feedback on one trace at one time is one row.
    feedback = [{"event_id": f"{rated}.{k}", "timestamp": timestamp, "thumb": "down",
                 f: f"x {PLANTED[k][0]}"}
                for f, rated in zip(FEEDBACK_FIELDS, ("prompt", "completion"), strict=True)
                for k in PLANTED]
    bad_feedback = [json.dumps({"event_id": f"prompt.{k}", "timestamp": timestamp,
                                "thumb": PLANTED[k][0]}).encode() for k in PLANTED]
    bad = [record for k in PLANTED for record in malformed(k, timestamp)]
    produce_raw(deployment.bootstrap, deployment.traces_topic,
                [json.dumps(e).encode() for e in events] + bad)
    produce_raw(deployment.bootstrap, deployment.feedback_topic,
                [json.dumps(f).encode() for f in feedback] + bad_feedback)
    deployment.start()

    deployment.wait_rows(COUNT_FINAL, len(events))
    deployment.wait_rows("SELECT count() FROM feedback FINAL", len(feedback))
    # Every window closed: the aggregates (errors_by_type, the stream keys) are stored too.
    deployment.wait_rows("SELECT sum(events) FROM window_metrics FINAL", len(events))
    dead = read_topic(deployment.bootstrap, deployment.dlq_topic, len(bad) + len(bad_feedback))
    assert len(dead) == len(bad) + len(bad_feedback)

    # Every planted field counts: the PII and secret signals fire for it. user_id is replaced
    # whole by its pseudonym, so nothing of it is stored to count.
    counted = {event_id: sum(pii.values()) + sum(secrets.values()) for event_id, pii, secrets
               in deployment.query("SELECT event_id, pii_counts, secret_counts FROM events FINAL")}
    uncounted = sorted(e for e, n in counted.items() if not n and not e.startswith("user_id."))
    assert not uncounted, f"{len(uncounted)} planted fields not counted: {uncounted[:8]}"
    signals = deployment.query(
        "SELECT sum(pii_events), sum(secret_events) FROM window_metrics FINAL")[0]
    assert signals[0] > 0 and signals[1] > 0

    for record in dead:  # bodies kept for a replay, with the policy's tags in place
        body = record.value.decode("utf-8", "replace")
        assert not leaks(body), f"a DLQ body holds {leaks(body)}"
        for name, value in record.headers:
            text = value.decode("utf-8", "replace")
            assert not leaks(text), f"the DLQ header {name} holds {leaks(text)}"
    assert any("<SECRET:" in r.value.decode("utf-8", "replace") for r in dead)

    assert deployment.stop(signal.SIGTERM) == 0
    log = "".join(p.read_text(errors="replace") for p in deployment.root.glob("worker-*.log"))
    assert not leaks(log), f"the worker's log holds {leaks(log)}"

    # Every table of the deployment, whole, read from its store directly once the worker let
    # go of it (the API serves readers some tables only).
    store = ClickHouseStore(deployment.env()["SEISMO_CLICKHOUSE_URL"])
    try:
        tables = [r[0] for r in store.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase()")[1]]
        assert {"events", "feedback", "window_metrics", DEPLOYMENT_SECRETS} <= set(tables)
        for table in tables:
            dump = store.client.raw_query(f"SELECT * FROM {table} FORMAT TabSeparatedRaw")
            text = dump.decode("utf-8", "replace")
            assert not leaks(text), f"{table} stores {leaks(text)}"
    finally:
        store.close()
