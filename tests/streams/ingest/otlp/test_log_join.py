"""GenAI log records joined to their spans' stored events, on the embedded store.

The instrumentations that record content as log records (openai-v2's default event form,
OpenLLMetry's events mode) run for real against the local OpenAI-compatible server; their spans
are stored as the OTLP pipeline stores them and their log records go through the join: every
chat call ends with its prompt and completion, whichever arrives first, however late, and a
replay of either leaves each event once, with its content.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from schemas.tables import EVENT_COLUMNS, EVENTS
from streams.ingest.dead_letters import DeadLetters
from streams.ingest.log_join import ORPHAN, LogJoin
from streams.ingest.otlp.logs import decode_logs
from streams.ingest.prepare import PrepareConfig, Preparer
from streams.metrics import Metrics
from streams.service.app import dlq_scrubber
from streams.settings import Settings
from streams.store.client import ClickHouseStore
from tests.streams.ingest.otlp.fixtures import key_values, single_span_request
from tests.support.otel_capture import LOG_MODES, answer, calls

ROWS = """
SELECT app, model, latency_ms, prompt_tokens, completion_tokens, status, prompt, completion,
       pii_counts
FROM events FINAL WHERE app = {app:String} ORDER BY timestamp
"""
WAIT = 60.0


@dataclass
class Record:
    value: bytes
    offset: int
    topic: str = "otlp_logs"
    partition: int = 0
    key: bytes | None = None
    headers: tuple = ()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    """The OTLP pipeline's rows for spans, and a join (on a fake clock) for log records."""

    def __init__(self, store: ClickHouseStore, policy: str = "raw") -> None:
        self.store = store
        self.preparer = Preparer(PrepareConfig.from_settings(
            Settings(redaction_policy=policy), salt="s"))
        self.clock = Clock()
        self.dead: list[tuple[bytes | None, dict[str, bytes]]] = []
        self.join = LogJoin(store, lambda: self.preparer.scanner,
                            DeadLetters(self._send, scrub=dlq_scrubber(self.preparer.redactor)),
                            Metrics(), wait_seconds=WAIT, clock=self.clock)
        self.offset = 0

    async def _send(self, key: bytes | None, value: bytes | None, headers: list) -> Any:
        self.dead.append((value, dict(headers)))
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    def spans(self, raw: bytes) -> None:
        prepared = self.preparer("otlp", [raw], datetime.now(UTC))
        self.store.insert_native(EVENTS, prepared.block, EVENT_COLUMNS)

    def logs(self, *values: bytes) -> list[Record]:
        records = []
        for value in values:
            records.append(Record(value, self.offset))
            self.offset += 1
        asyncio.run(self._write(records))
        return records

    async def _write(self, records: list[Record]) -> None:
        await self.join.write(records, self.join.prepare(records))

    def later(self, seconds: float) -> None:
        self.clock.now += seconds
        asyncio.run(self.join.tick())

    def rows(self, app: str) -> list[list[Any]]:
        return self.store.query(ROWS, {"app": app})[1]


@pytest.fixture
def store(chdb_store: ClickHouseStore) -> ClickHouseStore:
    chdb_store.command(f"TRUNCATE TABLE {EVENTS}")
    return chdb_store


def complete_chats(mode: str, rows: list[list[Any]]) -> tuple[int, int]:
    """(chat calls stored with every field and their content, chat calls made)."""
    made = calls()
    assert len(rows) == len(made)
    chats = [(c, r) for c, r in zip(made, rows, strict=True)
             if c.kind in ("chat", "chat_system", "stream")]
    complete = [r for c, r in chats
                if r[:2] == [f"app-{mode}", "gpt-4o-mini"] and r[2] > 0 and r[3:6] == [21, 9, "ok"]
                and c.prompt in r[6] and r[7] == answer(c.prompt)]
    return len(complete), len(chats)


@pytest.mark.parametrize("mode", LOG_MODES)
def test_log_records_fill_every_chat_call_and_a_replay_changes_nothing(
        store: ClickHouseStore, captured, mode: str) -> None:
    harness = Harness(store)
    harness.spans(captured[mode].spans[0])
    bare = harness.rows(f"app-{mode}")
    assert all(r[6] == "" for r in bare)  # the spans alone carry no content
    proto, as_json = captured[mode].logs
    harness.logs(proto)
    rows = harness.rows(f"app-{mode}")
    done, chats = complete_chats(mode, rows)
    assert done >= 0.95 * chats, rows
    assert harness.join.offsets() == {("otlp_logs", 0): 1}  # nothing waits: all committed
    # The JSON encoding of the same records finds the content there; the spans replayed after
    # it cannot take it away (their rows are versioned by the span's end, before the fill).
    harness.logs(as_json)
    harness.spans(captured[mode].spans[1])
    assert harness.rows(f"app-{mode}") == rows
    assert store.query(f"SELECT count(), uniqExact(event_id) FROM {EVENTS} FINAL")[1] == [
        [len(calls()), len(calls())]]
    assert harness.dead == []


def test_both_encodings_carry_the_same_content(captured) -> None:
    for mode in LOG_MODES:
        proto, as_json = (decode_logs(raw) for raw in captured[mode].logs)
        assert {k: v.content() for k, v in proto.spans.items()} == {
            k: v.content() for k, v in as_json.spans.items()}
        assert len(proto.spans) >= 12 and proto.skipped == 0


SPAN = "0123456789abcdef"


def span_record(span_id: str = SPAN) -> bytes:
    doc = single_span_request({"gen_ai.operation.name": "chat", "gen_ai.request.model": "m",
                               "gen_ai.usage.input_tokens": 5}, span_id=span_id)
    return json.dumps(doc).encode()


def log_record(question: str, reply: str | None, span_id: str = SPAN) -> bytes:
    """The records openai-v2 writes for one chat call (its user message, its choice)."""
    records = [{"eventName": "gen_ai.user.message", "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
                "spanId": span_id, "body": {"kvlistValue": {"values": key_values(
                    {"content": question})}}}]
    if reply is not None:
        records.append({**records[0], "eventName": "gen_ai.choice", "body": {"kvlistValue": {
            "values": key_values({"index": 0, "message": {"role": "assistant",
                                                           "content": reply}})}}})
    return json.dumps({"resourceLogs": [{
        "resource": {"attributes": key_values({"service.name": "svc"})},
        "scopeLogs": [{"logRecords": records}]}]}).encode()


def test_a_log_record_30_s_after_its_span_still_fills_it_redacted(store) -> None:
    harness = Harness(store, policy="redact")
    harness.spans(span_record())
    harness.later(30.0)
    harness.logs(log_record("Mail me at jane.doe@example.com please", "Sure, done."))
    [row] = harness.rows("svc")
    assert row[6] == "Mail me at <EMAIL> please" and row[7] == "Sure, done."
    assert row[8] == {"email": 1} and row[3] == 5


def test_a_log_record_before_its_span_waits_holding_its_offset(store) -> None:
    harness = Harness(store)
    first, = harness.logs(log_record("Is it raining?", None))
    assert harness.rows("svc") == [] and harness.join.offsets() == {("otlp_logs", 0): 0}
    harness.logs(log_record("ignored: the choice alone is what this record adds", "It is."))
    harness.spans(span_record())
    harness.later(1.0)
    [row] = harness.rows("svc")
    assert row[6].startswith("Is it raining?") and row[7] == "It is."
    assert harness.join.offsets() == {("otlp_logs", 0): 2}


def test_a_log_record_whose_span_never_comes_is_dead_lettered_redacted(store) -> None:
    harness = Harness(store, policy="redact")
    harness.logs(log_record("Call me on jane.doe@example.com", "OK"))
    harness.later(WAIT / 2)
    assert harness.dead == []
    harness.later(WAIT / 2)
    [(value, headers)] = harness.dead
    assert headers["seismo.reason"] == ORPHAN.encode()
    assert b"jane.doe" not in value and SPAN.encode() in headers["seismo.detail"]
    assert harness.join.offsets() == {("otlp_logs", 0): 1}
