"""End to end on the real broker: Collector kafka-exporter records → worker → ClickHouse / DLQ.

The worker consumes the topic named by ``SEISMO_OTLP_TOPIC`` with
``SEISMO_OTLP_ENCODING=auto``, so one topic carries both ``otlp_json`` and ``otlp_proto``
records, as when two Collectors with different settings share it.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from schemas.events import TraceEvent
from streams.ingest.otlp import OtlpBatch, decode_otlp
from streams.kafka.admin import ensure_topics
from tests.streams.ingest.otlp.fixtures import encode_request, export_request, json_bytes, variant
from tests.support.otel_capture import calls
from tests.support.workers import Deployment, produce_raw, read_topic

OTLP_ROWS = "SELECT count() FROM events FINAL WHERE source = 'otlp'"
ROW_SQL = """
SELECT event_id, toUnixTimestamp64Milli(timestamp), app, model, environment, provider,
       status, error_type, latency_ms, ttft_ms, prompt_tokens, completion_tokens, prompt,
       completion, conversation_id, trace_id, span_id, parent_span_id, user_id,
       metadata['gen_ai.operation.name']
FROM events FINAL WHERE source = 'otlp' ORDER BY event_id
"""
# One key for every record: one partition, so records are processed in the order sent.
KEY = b"otlp-e2e"


def expected_row(event: TraceEvent) -> list[Any]:
    """The ``ROW_SQL`` row of an event, as the worker's query API returns it."""
    return [
        event.event_id,
        int(event.timestamp),
        event.app,
        event.model,
        event.environment or "",
        event.provider or "",
        event.status,
        event.error_type or "",
        event.latency_ms,
        event.ttft_ms,
        event.prompt_tokens,
        event.completion_tokens,
        event.prompt_text(),
        event.completion or "",
        event.conversation_id or "",
        event.trace_id,
        event.span_id,
        event.parent_span_id or "",
        event.user_id or "",
        (event.metadata or {}).get("gen_ai.operation.name", ""),
    ]


def events_of(raw: bytes) -> list[TraceEvent]:
    batch = decode_otlp(raw, "auto")
    assert isinstance(batch, OtlpBatch) and sum(batch.skipped.values()) == 1
    return batch.events


def recent_variant(salt: str) -> dict:
    """The fixture under new trace ids, starting ten minutes ago (whole milliseconds)."""
    doc = export_request()
    starts = [
        int(span["startTimeUnixNano"])
        for rs in doc["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    ]
    target_ms = time.time_ns() // 1_000_000 - 10 * 60 * 1000
    return variant(doc, salt, shift_ns=target_ms * 1_000_000 - min(starts))


def test_collector_records_land_once_and_bad_ones_reach_the_dlq(deployment: Deployment) -> None:
    # Fail in a second, not after a two-minute wait for rows, while the worker cannot do it.
    topic = f"t{deployment.name}.otlp_spans"
    asyncio.run(ensure_topics(deployment.bootstrap, {topic: 4}))
    deployment.extra_env.update(
        {
            "SEISMO_OTLP_TOPIC": topic,
            "SEISMO_OTLP_ENCODING": "auto",
            "SEISMO_REDACTION_POLICY": "raw",  # compare the stored text exactly
        }
    )
    as_json = json_bytes(recent_variant("json"))
    as_proto = encode_request(recent_variant("proto"))
    bad = {b"not an export request": "otlp_invalid_proto", b'{"resourceSpans": 5}': "otlp_schema"}
    first = [as_json, as_proto, *bad]
    produce_raw(deployment.bootstrap, topic, first, keys=[KEY] * len(first))
    deployment.start()

    # Four GenAI spans per record (the HTTP span is skipped), each record's own trace ids.
    deployment.wait_rows(OTLP_ROWS, 8)
    expected = sorted(events_of(as_json) + events_of(as_proto), key=lambda e: e.event_id)
    assert deployment.query(ROW_SQL) == [expected_row(e) for e in expected]

    dead = read_topic(deployment.bootstrap, deployment.dlq_topic, len(bad))
    assert sorted(dict(r.headers)["seismo.reason"].decode() for r in dead) == sorted(bad.values())
    assert sorted(r.value for r in dead) == sorted(bad)

    # A replay of the JSON record adds nothing; the new record behind it on the same
    # partition proves the replay was consumed before the count is checked.
    later = json_bytes(recent_variant("later"))
    produce_raw(deployment.bootstrap, topic, [as_json, later], keys=[KEY, KEY])
    deployment.wait_rows(OTLP_ROWS, 12)
    assert deployment.scalar("SELECT uniqExact(event_id) FROM events WHERE source = 'otlp'") == 12


CONTENT_ROWS = ("SELECT count() FROM events FINAL WHERE source = 'otlp' AND prompt != '' "
                "AND completion != ''")
APP_ROWS = "SELECT * FROM events FINAL WHERE app LIKE 'app-%' ORDER BY event_id"
# The chat calls whose log records carry a prompt and a completion (the errors have no choice).
CHATS = sum(c.kind in ("chat", "chat_system", "stream") for c in calls())


def test_log_records_fill_their_spans_in_either_order_and_a_replay_keeps_one_row(
        deployment: Deployment, captured) -> None:
    spans, logs = f"t{deployment.name}.otlp_spans", f"t{deployment.name}.otlp_logs"
    asyncio.run(ensure_topics(deployment.bootstrap, {spans: 4, logs: 4}))
    deployment.extra_env.update({"SEISMO_OTLP_TOPIC": spans, "SEISMO_OTLP_LOGS_TOPIC": logs,
                                 "SEISMO_OTLP_LOG_WAIT_SECONDS": "20",
                                 "SEISMO_REDACTION_POLICY": "raw"})
    v2, openllmetry = captured["openai_v2_events"], captured["openllmetry_events"]
    # openai-v2's log records come before their spans, OpenLLMetry's after theirs are stored.
    produce_raw(deployment.bootstrap, logs, [v2.logs[0]], keys=[KEY])
    deployment.start()
    produce_raw(deployment.bootstrap, spans, [v2.spans[1], openllmetry.spans[0]], keys=[KEY] * 2)
    deployment.wait_rows(OTLP_ROWS, 2 * len(calls()))
    produce_raw(deployment.bootstrap, logs, [openllmetry.logs[1]], keys=[KEY])
    deployment.wait_rows(CONTENT_ROWS, 2 * CHATS)
    stored = deployment.query(APP_ROWS)

    # Both topics replayed, the spans last; a log record nobody's span answers comes after, on
    # the same partition: once it is dead-lettered, the replay has been consumed.
    orphan = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [{
        "eventName": "gen_ai.user.message", "traceId": "ab" * 16, "spanId": "cd" * 8,
        "body": {"stringValue": "hello?"}}]}]}]}).encode()
    produce_raw(deployment.bootstrap, logs, [v2.logs[1], openllmetry.logs[0], orphan],
                keys=[KEY] * 3)
    produce_raw(deployment.bootstrap, spans, [v2.spans[0], openllmetry.spans[1]], keys=[KEY] * 2)
    [dead] = read_topic(deployment.bootstrap, deployment.dlq_topic, 1, timeout=90)
    assert dict(dead.headers)["seismo.reason"] == b"otlp_log_orphan"
    produce_raw(deployment.bootstrap, spans, [json_bytes(recent_variant("after"))], keys=[KEY])
    deployment.wait_rows(OTLP_ROWS, 2 * len(calls()) + 4)
    assert deployment.query(APP_ROWS) == stored
    assert deployment.scalar("SELECT uniqExact(event_id) FROM events WHERE app LIKE 'app-%'") == (
        2 * len(calls()))
