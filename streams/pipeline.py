"""One batch of Kafka records: prepared (decoded, scanned, rows built), then written durably.

The two halves are separate so that they can overlap: :meth:`IngestPipeline.prepare` starts
preparing a batch as soon as it is fetched (in an ingest process, :mod:`streams.prepare_pool`,
or lazily in the event loop), and :meth:`IngestPipeline.write` publishes its rejected records
to the DLQ, writes its rows and returns only once the DLQ has confirmed them and ClickHouse has
taken the rows. The caller acknowledges the batch's offsets only after that: at-least-once
delivery, made exactly-once in storage by the event_id key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from streams.dead_letters import DeadLetters
from streams.exceptions import SinkUnavailable
from streams.metrics import Metrics
from streams.prepare import Prepared, PrepareFn
from streams.records import Record
from streams.sink import ClickHouseSink

log = logging.getLogger(__name__)


class IngestPipeline:
    """Prepare → (DLQ | row) → sink, for one source topic.

    ``prepare`` turns the batch's values into a :class:`~streams.prepare.Prepared` (see
    :meth:`~streams.prepare.Preparer.in_loop` and
    :meth:`~streams.prepare_pool.PreparePool.for_source`); ``on_written`` gets the events'
    ``(app, model, prompt_version, timestamp)`` once they are stored (the window clock's
    input).
    """

    def __init__(
        self,
        prepare: PrepareFn,
        sink: ClickHouseSink,
        dead_letters: DeadLetters,
        metrics: Metrics,
        on_written: Callable[[list[tuple[str, str, str, datetime]]], None] | None = None,
    ) -> None:
        self._prepare = prepare
        self.sink = sink
        self.dead_letters = dead_letters
        self.metrics = metrics
        self.on_written = on_written

    def prepare(self, records: Sequence[Record]) -> Awaitable[Prepared]:
        """Start preparing ``records``; await the result in :meth:`write`."""
        return self._prepare([r.value for r in records], datetime.now(UTC))

    async def write(self, records: Sequence[Record], prepared: Prepared) -> None:
        """Dead-letter the rejected records, write the rows; returns once both are durable."""
        if records:  # one pipeline per topic: every record has the same one
            self.metrics.inc("seismo_records_total", len(records), topic=records[0].topic)
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
        written = await self._flush_until_written()
        if self.on_written is not None and prepared.stream_times:
            self.on_written(prepared.stream_times)
        self.metrics.inc("seismo_events_written_total", written, table=self.sink.table)
        self.metrics.inc("seismo_batches_total")

    async def _flush_until_written(self) -> int:
        """Flush, waiting out failures; no new records are taken meanwhile (backpressure)."""
        while True:
            try:
                return await self.sink.flush()
            except SinkUnavailable as exc:
                self.metrics.inc("seismo_sink_failures_total", table=self.sink.table)
                await asyncio.sleep(exc.retry_after)
