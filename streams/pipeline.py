"""One batch of Kafka records: decode, route bad ones to the DLQ, write good ones, durably.

The caller acknowledges the batch's offsets only after :meth:`IngestPipeline.process`
returns, which happens only once the DLQ has confirmed its records and ClickHouse has taken
the rows: at-least-once delivery, made exactly-once in storage by the event_id key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from streams.dead_letters import DeadLetters
from streams.decode import Rejected
from streams.exceptions import SinkUnavailable
from streams.metrics import Metrics
from streams.records import Record
from streams.sink import ClickHouseSink

log = logging.getLogger(__name__)


class IngestPipeline:
    """Decode → (DLQ | row) → sink, for one source topic."""

    def __init__(
        self,
        decode: Callable[[bytes | None, datetime], Any],
        to_rows: Callable[[list[Any], datetime], list[tuple[Any, ...]]],
        sink: ClickHouseSink,
        dead_letters: DeadLetters,
        metrics: Metrics,
        on_written: Callable[[list[Any]], None] | None = None,
    ) -> None:
        self.decode = decode
        self.to_rows = to_rows
        self.sink = sink
        self.dead_letters = dead_letters
        self.metrics = metrics
        self.on_written = on_written

    async def process(self, records: Sequence[Record]) -> None:
        now = datetime.now(UTC)
        deliveries = []
        valid = []
        for record in records:
            self.metrics.inc("seismo_records_total", topic=record.topic)
            result = self.decode(record.value, now)
            if isinstance(result, Rejected):
                self.metrics.inc("seismo_dlq_total", reason=result.reason)
                deliveries.append(await self.dead_letters.publish(record, result))
                continue
            # One record is one event, or (an OTLP export request) a list of them.
            valid.extend(result if isinstance(result, list) else (result,))
        for row in self.to_rows(valid, now):
            self.sink.add(row)
        if deliveries:
            await asyncio.gather(*deliveries)
        written = await self._flush_until_written()
        if self.on_written is not None and valid:
            self.on_written(valid)
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
