"""One batch of Kafka records: prepared (decoded, scanned, rows built), then written durably.

The two halves are separate so that they can overlap: :meth:`IngestPipeline.prepare` starts
preparing a batch as soon as it is fetched (in an ingest process, :mod:`streams.ingest.pool`,
or lazily in the event loop), and :meth:`IngestPipeline.write` publishes its rejected records
to the DLQ, writes its rows and returns only once the DLQ has confirmed them and ClickHouse has
taken the rows. The caller acknowledges the batch's offsets only after that: at-least-once
delivery, made exactly-once in storage by the event_id key.

No record stalls the stream. Two failures are waited out, because they are no record's fault
and nothing may be lost: ClickHouse refusing writes (:class:`~streams.exceptions.SinkUnavailable`,
backpressure) and the DLQ's broker being away
(:class:`~streams.ingest.dead_letters.DeadLetterUnavailable`, the batch is replayed). Any other
failure
— a record that crashes a scanner or an ingest process, a row that cannot be built — is retried
``max_attempts`` times (a passing fault: a child killed by the kernel), then the batch is split
in halves, each written on its own, and halves that fail again are split again, so the records
that fail alone are dead-lettered with reason :data:`POISON` and the exception's one line, and
every other record is stored: a poison record costs a few retries and ``log2(batch)`` splits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from streams.exceptions import SinkUnavailable
from streams.ingest.dead_letters import DeadLetters, DeadLetterUnavailable, one_line
from streams.ingest.decode import Rejected
from streams.ingest.prepare import Prepared, PrepareFn
from streams.kafka.records import Record
from streams.metrics import Metrics
from streams.store.sink import ClickHouseSink

log = logging.getLogger(__name__)

POISON = "poison"  # the DLQ reason of a record whose batch fails only when it is in it

# (topic, records dead-lettered, the first one's detail) -> awaited once a batch's poison
# records are in the DLQ (the self-monitoring alert).
OnPoison = Callable[[str, int, str], Awaitable[None]]


class IngestPipeline:
    """Prepare → (DLQ | row) → sink, for one source topic.

    ``prepare`` turns the batch's values into a :class:`~streams.ingest.prepare.Prepared` (see
    :meth:`~streams.ingest.prepare.Preparer.in_loop` and
    :meth:`~streams.ingest.pool.PreparePool.for_source`); ``on_written`` gets the events'
    ``(app, model, prompt_version, timestamp)`` once they are stored (the window clock's
    input); ``max_attempts`` and ``retry_seconds`` bound the retries of a failing batch before
    it is split; ``on_poison`` hears of the records isolated.
    """

    def __init__(
        self,
        prepare: PrepareFn,
        sink: ClickHouseSink,
        dead_letters: DeadLetters,
        metrics: Metrics,
        on_written: Callable[[list[tuple[str, str, str, datetime]]], None] | None = None,
        max_attempts: int = 3,
        retry_seconds: float = 1.0,
        on_poison: OnPoison | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self._prepare = prepare
        self.sink = sink
        self.dead_letters = dead_letters
        self.metrics = metrics
        self.on_written = on_written
        self.max_attempts = max_attempts
        self.retry_seconds = retry_seconds
        self.on_poison = on_poison

    def prepare(self, records: Sequence[Record]) -> Awaitable[Prepared]:
        """Start preparing ``records``; hand the awaitable to :meth:`write`."""
        return self._prepare([r.value for r in records], datetime.now(UTC))

    async def write(self, records: Sequence[Record], prepared: Awaitable[Prepared]) -> None:
        """Dead-letter the rejected records, write the rows; returns once both are durable.
        Raises only :class:`~streams.ingest.dead_letters.DeadLetterUnavailable` (replay the
        batch)."""
        if not records:
            return
        # One pipeline per topic: every record has the same one.
        self.metrics.inc("seismo_records_total", len(records), topic=records[0].topic)
        failure: Exception | None = None
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self.retry_seconds)
                prepared = self.prepare(records)
            failure = await self._attempt(records, prepared)
            if failure is None:
                return
            log.warning("ingest: a batch of %d records failed (attempt %d of %d): %s",
                        len(records), attempt, self.max_attempts, one_line(failure),
                        exc_info=failure)
            self.metrics.inc("seismo_ingest_failures_total", stage="process")
        assert failure is not None
        poisoned = await self._isolate(records, failure)
        log.error("ingest: %d poison records of %s dead-lettered, the rest of the batch stored",
                  len(poisoned), records[0].topic)
        if self.on_poison is not None:
            await self.on_poison(records[0].topic, len(poisoned), poisoned[0])

    async def _attempt(self, records: Sequence[Record],
                       prepared: Awaitable[Prepared]) -> Exception | None:
        """Write once; the failure that is some record's fault, or None when written."""
        try:
            await self._write_prepared(records, await prepared)
        except (DeadLetterUnavailable, asyncio.CancelledError):
            raise
        except Exception as exc:
            return exc
        return None

    async def _isolate(self, records: Sequence[Record], failure: Exception) -> list[str]:
        """Bisect a batch that keeps failing: each half is written alone, a half that fails
        is split again, a single record that fails is dead-lettered. Returns the details."""
        if len(records) == 1:
            [record] = records
            rejected = Rejected(POISON, one_line(failure))
            self.metrics.inc("seismo_poison_records_total", topic=record.topic)
            self.metrics.inc("seismo_dlq_total", reason=POISON)
            log.warning("ingest: %s:%d@%d is poison: %s", record.topic, record.partition,
                        record.offset, rejected.detail)
            await (await self.dead_letters.publish(record, rejected))
            return [rejected.detail]
        middle = len(records) // 2
        details: list[str] = []
        for half in (records[:middle], records[middle:]):
            half_failure = await self._attempt(half, self.prepare(half))
            if half_failure is not None:
                details += await self._isolate(half, half_failure)
        return details

    async def _write_prepared(self, records: Sequence[Record], prepared: Prepared) -> None:
        for (name, labels), amount in prepared.counters.items():
            self.metrics.inc(name, amount, **dict(labels))
        deliveries = []
        for index, rejected in prepared.rejected:
            self.metrics.inc("seismo_dlq_total", reason=rejected.reason)
            deliveries.append(await self.dead_letters.publish(records[index], rejected))
        if deliveries:
            await asyncio.gather(*deliveries)
        # Rows go to the sink only once the DLQ has its records: a batch that fails before
        # (and is replayed) leaves no rows behind to be written twice.
        self.sink.add(prepared.block)
        written = await flush_until_written(self.sink, self.metrics)
        if self.on_written is not None and prepared.stream_times:
            self.on_written(prepared.stream_times)
        self.metrics.inc("seismo_events_written_total", written, table=self.sink.table)
        self.metrics.inc("seismo_batches_total")


async def flush_until_written(sink: ClickHouseSink, metrics: Metrics) -> int:
    """Flush, waiting out failures; no new records are taken meanwhile (backpressure)."""
    while True:
        try:
            return await sink.flush()
        except SinkUnavailable as exc:
            metrics.inc("seismo_sink_failures_total", table=sink.table)
            await asyncio.sleep(exc.retry_after)
