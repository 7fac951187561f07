"""The OTLP logs topic: GenAI log records joined to the stored events of their spans.

Where an instrumentation records content as log records (:mod:`streams.ingest.otlp.logs`), the
span reaches ``otlp_topic`` without its prompt and completion and is stored as it is: latency,
tokens and errors count at once. Its log records arrive on ``otlp_logs_topic`` before or after
it, so the join keeps no span in memory: it reads the stored row back from ClickHouse, fills
the content the row lacks (scanned and redacted like any event's, with the signals that follow
from it) and writes it again under a newer ``ingested_at``, which the table's
ReplacingMergeTree keeps. How long after its span a log record arrives does not matter.

A log record whose span is not stored yet waits, in memory, up to ``otlp_log_wait_seconds``
(retried every second); its Kafka offset is not committed meanwhile, so a worker that stops
replays it. One whose span never comes is dead-lettered as ``otlp_log_orphan``.

Idempotent both ways: a log record replayed finds its content already filled and writes nothing,
and a span replayed cannot take the content away again, because an OTLP row's ``ingested_at``
is the span's end (:func:`streams.ingest.rows.trace_rows`), earlier than any fill of it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from aiokafka import TopicPartition

from schemas.events import TraceEvent
from schemas.tables import EVENT_COLUMNS, EVENT_SCHEMA, EVENTS
from streams.ingest.dead_letters import DeadLetters
from streams.ingest.decode import Rejected
from streams.ingest.otlp.genai import event_id
from streams.ingest.otlp.logs import LogBatch, SpanContent, decode_logs
from streams.ingest.otlp.spans import EventRecord
from streams.ingest.pipeline import flush_until_written
from streams.ingest.scan import EventScanner
from streams.kafka.records import Record
from streams.metrics import Metrics
from streams.store.client import ClickHouseStore
from streams.store.native import NativeEncoder
from streams.store.sink import ClickHouseSink

log = logging.getLogger(__name__)

ORPHAN = "otlp_log_orphan"
RETRY_SECONDS = 1.0
MAX_WAITING = 50_000
"""Spans whose log records may wait at once; beyond it the oldest are dead-lettered early."""

_COLUMN = {name: i for i, name in enumerate(EVENT_COLUMNS)}
_LOOKUP = (f"SELECT {', '.join(EVENT_COLUMNS)} FROM {EVENTS} FINAL "
           "WHERE app IN {apps:Array(String)} AND event_id IN {ids:Array(String)}")
_CHILDREN = (f"SELECT {', '.join(EVENT_COLUMNS)} FROM {EVENTS} FINAL "
             "WHERE app IN {apps:Array(String)} AND trace_id IN {traces:Array(String)} "
             "AND parent_span_id IN {parents:Array(String)} AND source = 'otlp'")
# A log record emitted as its call ends is stamped at most this far from the span's end.
_END_SLACK_NS = 1_000_000_000
# The columns a filled prompt or completion sets, from the scan of the content.
_PROMPT_SIGNALS = {"prompt": "prompt", "embedded_prompt": "embedded_prompt",
                   "toxicity_prompt": "toxicity_prompt", "injection_score": "injection_score"}
_COMPLETION_SIGNALS = {"completion": "completion", "toxicity_completion": "toxicity_completion",
                       "refusal": "refusal", "completion_leaks": "completion_leaks"}


@dataclass(slots=True)
class _Waiting:
    """A span's log records not joined yet: their content, since when, the records holding it
    (their offsets are not committed until it is joined or dead-lettered)."""

    content: SpanContent
    since: float
    records: list[Record] = field(default_factory=list)


class LogJoin:
    """The pipeline of ``otlp_logs_topic`` (see the module docstring).

    Besides a pipeline's ``prepare`` and ``write`` it gives the consumer what it commits:
    :meth:`offsets` holds each partition at its oldest record still waiting; :meth:`tick`
    retries the waiting ones (the consumer calls it between batches); :meth:`revoked` lets go of
    the partitions another worker now owns.
    """

    def __init__(
        self, store: ClickHouseStore, scanner: Callable[[], EventScanner],
        dead_letters: DeadLetters, metrics: Metrics, encoding: str = "auto",
        max_bytes: int | None = None, wait_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.sink = ClickHouseSink(store, EVENTS, EVENT_COLUMNS)
        self._scanner = scanner
        self.dead_letters = dead_letters
        self.metrics = metrics
        self.encoding = encoding
        self.max_bytes = max_bytes
        self.wait_seconds = wait_seconds
        self.clock = clock
        self._waiting: dict[str, _Waiting] = {}
        self._ends: dict[TopicPartition, int] = {}
        self._last_try = 0.0
        self._encoder = NativeEncoder(EVENT_SCHEMA)

    def prepare(self, records: Sequence[Record]) -> asyncio.Future[list[LogBatch | Rejected]]:
        """Decode the records now: a logs record is small, and reading it is all there is."""
        future = asyncio.get_running_loop().create_future()
        future.set_result([decode_logs(r.value, self.encoding,  # type: ignore[arg-type]
                                       max_bytes=self.max_bytes) for r in records])
        return future

    async def write(self, records: Sequence[Record], prepared: Any) -> None:
        """Dead-letter unreadable records, join what the others hold; returns once every join
        possible now is stored (what waits is held by :meth:`offsets`)."""
        if not records:
            return
        self.metrics.inc("seismo_records_total", len(records), topic=records[0].topic)
        now = self.clock()
        for record, result in zip(records, await prepared, strict=True):
            self._ends[TopicPartition(record.topic, record.partition)] = record.offset + 1
            if isinstance(result, Rejected):
                await self._dead_letter(record, result)
                continue
            self.metrics.inc("seismo_otlp_log_records_skipped_total", result.skipped)
            for key, content in result.spans.items():
                waiting = self._waiting.setdefault(key, _Waiting(SpanContent(content.app, key),
                                                                 now))
                if not any(_same(record, r) for r in waiting.records):  # not a batch replayed
                    waiting.content.events.extend(content.events)
                    waiting.records.append(record)
        await self.resolve()

    async def tick(self) -> None:
        """Retry the waiting joins, at most once a second."""
        if self._waiting and self.clock() - self._last_try >= RETRY_SECONDS:
            await self.resolve()

    def offsets(self) -> dict[TopicPartition, int]:
        """Per partition seen, the offset that may be committed: past the last record taken,
        held back to the oldest one whose content still waits."""
        held = dict(self._ends)
        for waiting in self._waiting.values():
            for record in waiting.records:
                tp = TopicPartition(record.topic, record.partition)
                if tp in held:
                    held[tp] = min(held[tp], record.offset)
        return held

    def revoked(self, partitions: set[TopicPartition]) -> None:
        """Forget the offsets of partitions now another worker's (it replays from the committed
        offset); content waiting from them stays and is still joined, idempotently."""
        for tp in partitions:
            self._ends.pop(tp, None)
        for waiting in self._waiting.values():
            waiting.records = [r for r in waiting.records
                               if TopicPartition(r.topic, r.partition) not in partitions]

    async def resolve(self) -> None:
        """Join every waiting span that is stored; dead-letter those waited for too long."""
        self._last_try = self.clock()
        if not self._waiting:
            return
        direct, children = await self.store.run(self._lookup, list(self._waiting))
        # Content per stored row, gathered before any is filled: a call's user message may be
        # on its own span and its choice on the parent's.
        targets: dict[str, tuple[list[Any], list[EventRecord]]] = {}
        for key, row in direct.items():
            targets[key] = (row, self._waiting.pop(key).content.events)
        for key, rows in children.items():
            waiting = self._waiting[key]
            left = []
            for event in waiting.content.events:
                row = _call_at(rows, event.time_unix_nano)
                if row is None:
                    left.append(event)
                else:
                    targets.setdefault(row[_COLUMN["event_id"]], (row, []))[1].append(event)
            waiting.content.events[:] = left
            if not left:
                del self._waiting[key]
        filled = [self._filled(row, SpanContent(row[_COLUMN["app"]], key, events))
                  for key, (row, events) in targets.items()]
        rows = [row for row in filled if row is not None]
        if rows:
            self.sink.add(self._encoder.encode(rows))
            await flush_until_written(self.sink, self.metrics)
        self.metrics.inc("seismo_otlp_log_joins_total", len(rows))
        await self._expire()
        self.metrics.set("seismo_otlp_log_waiting", len(self._waiting))

    def _lookup(self, keys: list[str]) -> tuple[dict[str, list[Any]], dict[str, list[list[Any]]]]:
        """The stored rows of the waiting spans, and for those not stored, the stored model
        calls whose parent they are (OpenLLMetry records a streamed call's choice under the
        span around the call: the stream ends outside the call's span context)."""
        apps = sorted({self._waiting[k].content.app for k in keys})
        _, rows = self.store.query(_LOOKUP, {"apps": apps, "ids": keys})
        direct = {row[_COLUMN["event_id"]]: row for row in rows}
        missing = [k.split(":") for k in keys if k not in direct]
        if not missing:
            return direct, {}
        _, rows = self.store.query(_CHILDREN, {"apps": apps, "traces": [t for t, _ in missing],
                                               "parents": [s for _, s in missing]})
        children: dict[str, list[list[Any]]] = {}
        for row in rows:
            key = event_id(row[_COLUMN["trace_id"]], row[_COLUMN["parent_span_id"]])
            if key in self._waiting and key not in direct:
                children.setdefault(key, []).append(row)
        return direct, children

    def _filled(self, row: list[Any], content: SpanContent) -> tuple[Any, ...] | None:
        """The stored row with the content it lacks, or None when it lacks none of it."""
        prompt, completion = content.content()
        fill_prompt = not row[_COLUMN["prompt"]] and bool(prompt)
        fill_completion = not row[_COLUMN["completion"]] and bool(completion)
        if not (fill_prompt or fill_completion):
            return None
        event = msgspec.convert({
            "event_id": row[_COLUMN["event_id"]], "timestamp": row[_COLUMN["timestamp"]],
            "app": row[_COLUMN["app"]], "model": row[_COLUMN["model"]], "latency_ms": 0.0,
            # A stored prompt is redacted already: scanned again it adds nothing, and it is
            # what a filled completion's leaks are told apart from.
            "prompt": prompt if fill_prompt else row[_COLUMN["prompt"]],
            "completion": completion if fill_completion else None,
        }, TraceEvent, strict=False)
        [scan] = self._scanner().scan([event])
        filled = list(row)
        for fill, signals in ((fill_prompt, _PROMPT_SIGNALS),
                              (fill_completion, _COMPLETION_SIGNALS)):
            if fill:
                for column, attribute in signals.items():
                    filled[_COLUMN[column]] = getattr(scan, attribute)
        for column in ("pii_counts", "secret_counts"):
            filled[_COLUMN[column]] = _added(row[_COLUMN[column]], getattr(scan, column))
        filled[_COLUMN["ingested_at"]] = datetime.now(UTC)
        return tuple(filled)

    async def _expire(self) -> None:
        now = self.clock()
        expired = [k for k, w in self._waiting.items() if now - w.since >= self.wait_seconds]
        overflow = len(self._waiting) - len(expired) - MAX_WAITING
        if overflow > 0:  # the oldest first: dicts keep the order the spans were first seen
            expired += [k for k in self._waiting if k not in set(expired)][:overflow]
        by_record: dict[tuple[str, int, int], tuple[Record, list[str]]] = {}
        for key in expired:
            for record in self._waiting.pop(key).records:
                at = (record.topic, record.partition, record.offset)
                by_record.setdefault(at, (record, []))[1].append(key)
        for record, keys in by_record.values():
            await self._dead_letter(record, Rejected(ORPHAN, (
                f"no span stored within otlp_log_wait_seconds={self.wait_seconds:g} for "
                f"{len(keys)} span(s) of this record: {', '.join(keys[:20])}")))

    async def _dead_letter(self, record: Record, rejected: Rejected) -> None:
        self.metrics.inc("seismo_dlq_total", reason=rejected.reason)
        await (await self.dead_letters.publish(record, rejected))


def _call_at(rows: list[list[Any]], time_unix_nano: int) -> list[Any] | None:
    """The model call a log record was emitted at the end of: of the calls that started before
    it and did not fail, the one whose end is nearest (the record may be stamped just after the
    span ended, even after the next call started)."""
    best, best_gap = None, _END_SLACK_NS
    for row in rows:
        start = int(row[_COLUMN["timestamp"]].timestamp() * 1e9)
        gap = abs(start + int(row[_COLUMN["latency_ms"]] * 1e6) - time_unix_nano)
        if row[_COLUMN["status"]] == "ok" and start <= time_unix_nano and gap <= best_gap:
            best, best_gap = row, gap
    return best


def _same(a: Record, b: Record) -> bool:
    return (a.topic, a.partition, a.offset) == (b.topic, b.partition, b.offset)


def _added(stored: dict[str, int], found: dict[str, int]) -> dict[str, int]:
    total = dict(stored)
    for kind, count in found.items():
        total[kind] = total.get(kind, 0) + count
    return total

