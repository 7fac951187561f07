"""Per-event signals end to end on the real broker: incidents fire their window tests, clean
traffic fires none, and with the default policy no secret reaches storage or a topic."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from streams.testing.generator import GeneratorConfig, TrafficGenerator, to_json_line
from streams.testing.publish import stream_key
from tests.detectors.fixtures.labelled import load
from tests.support.workers import Deployment, produce_raw, read_topic

WINDOW = 10
EVENTS_PER_SECOND = 20
CLEAN = 60  # seconds of clean traffic (the reference and more)
INCIDENT = 60  # then 20 % toxic traffic with latency x4 and 20 % of completions leaking
START = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)
ENV = {
    "SEISMO_WINDOW_SECONDS": str(WINDOW),
    "SEISMO_ALLOWED_LATENESS_SECONDS": "1",
    "SEISMO_IDLE_CLOSE_SECONDS": "3",
    "SEISMO_REFERENCE_EVENTS": "200",
    "SEISMO_EMBEDDING_ENABLED": "false",
}


def publish(dep: Deployment, events: list[dict]) -> None:
    produce_raw(dep.bootstrap, dep.traces_topic, [to_json_line(e) for e in events],
                keys=[stream_key(e) for e in events])


def test_toxic_and_latency_incidents_fire_within_two_windows_and_clean_fires_none(
    deployment: Deployment,
) -> None:
    deployment.extra_env.update(ENV)
    # Users paste their own e-mails and numbers into prompts all along (PII, not a leak); in
    # the incident, one completion in five names another customer's address.
    clean = GeneratorConfig(seed=21, start=START, events_per_second=EVENTS_PER_SECOND,
                            apps=("support-bot",), pii_rate=0.2)
    incident = GeneratorConfig(seed=22, start=START + timedelta(seconds=CLEAN),
                               events_per_second=EVENTS_PER_SECOND, apps=("support-bot",),
                               toxic_rate=0.2, latency_spike_at=0.0, pii_rate=0.2)
    events = list(TrafficGenerator(clean).events(CLEAN * EVENTS_PER_SECOND))
    for i, event in enumerate(TrafficGenerator(incident).events(INCIDENT * EVENTS_PER_SECOND)):
        if i % 5 == 0 and event["completion"]:
            event["completion"] += f" Your order is with client{i}@example.net now."
        events.append(event)
    publish(deployment, events)
    keys = {(e["app"], e["model"]) for e in events}
    deployment.start()
    deployment.wait_rows("SELECT count() FROM window_metrics FINAL",
                         (CLEAN + INCIDENT) // WINDOW * len(keys), timeout=240)

    rows = deployment.query(
        "SELECT app, model, field, toUnixTimestamp(window_start) - {t0:Int64} AS offset, "
        "drifted FROM drift FINAL ORDER BY offset", {"t0": int(START.timestamp())})
    before = [r for r in rows if r[3] < CLEAN]
    assert before and not [r for r in before if r[4]], "clean traffic fired a window test"
    for app, model in keys:
        for fld in ("toxicity", "latency_ms", "leak_rate"):
            first_two = [r[4] for r in rows if (r[0], r[1], r[2]) == (app, model, fld)
                         and r[3] >= CLEAN][:2]
            assert any(first_two), f"{fld} did not fire for {app}/{model}: {first_two}"
    toxic = deployment.query(
        "SELECT avg(toxicity_rate) FROM window_metrics FINAL WHERE "
        "toUnixTimestamp(window_start) >= {t:Int64}", {"t": int(START.timestamp()) + CLEAN})
    assert 0.1 < toxic[0][0] < 0.3
    [[pii, leaks]] = deployment.query(
        "SELECT sum(pii_events), sum(leak_events) FROM window_metrics FINAL "
        "WHERE toUnixTimestamp(window_start) < {t:Int64}", {"t": int(START.timestamp()) + CLEAN})
    assert pii > 0 and leaks == 0, (pii, leaks)  # the users' own PII is charted, not leaked
    # On-call hears of the leak on every key, and of nothing before the incident.
    paged = deployment.query(
        "SELECT rule, app, model, toUnixTimestamp(starts_at) - {t0:Int64} FROM alerts FINAL "
        "WHERE state = 'firing'", {"t0": int(START.timestamp())})
    assert not [r for r in paged if r[3] < CLEAN], paged
    assert {(r[1], r[2]) for r in paged if r[0] == "CompletionLeakage"} == keys, paged


def leaked(values: set[str], text: str) -> set[str]:
    return {v for v in values if v in text}


def test_no_secret_reaches_clickhouse_or_a_topic_under_the_default_policy(
    deployment: Deployment,
) -> None:
    secrets = [r for r in load("secrets") if r["label"] == "positive"]
    values = {r["text"][s["start"]:s["end"]] for r in secrets for s in r["spans"]}
    base = next(TrafficGenerator(GeneratorConfig(
        seed=5, start=datetime.now(UTC) - timedelta(minutes=5))).events(1))
    events = [
        {**base, "event_id": f"leak-{i}", "prompt": r["text"],
         "completion": f"Noted: {r['text']}", "reference": r["text"]}
        for i, r in enumerate(secrets)
    ]
    publish(deployment, events)
    # Malformed records carrying secrets go to the DLQ, redacted too.
    broken = [("{" + json.dumps({"prompt": r["text"]})).encode() for r in secrets[:20]]
    produce_raw(deployment.bootstrap, deployment.traces_topic, broken)
    deployment.start()
    deployment.wait_rows("SELECT count() FROM events FINAL", len(events))
    dead = read_topic(deployment.bootstrap, deployment.dlq_topic, len(broken))
    assert len(dead) == len(broken)

    stored = [json.dumps(deployment.query(f"SELECT * FROM {table}"), default=str)
              for table in ("events", "feedback", "drift", "window_metrics", "alerts",
                            "embeddings")]
    assert not leaked(values, "\n".join(stored))
    assert not leaked(values, b"\n".join(r.value for r in dead).decode("utf-8", "replace"))
    counted = deployment.scalar("SELECT sum(arraySum(mapValues(secret_counts))) FROM events FINAL")
    assert counted >= len(secrets)
