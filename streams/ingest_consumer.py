"""The ingest path's Kafka side: one plain aiokafka consumer over every event topic.

Each turn of the loop takes one batch (``getmany``, bounded by size and time), hands each
topic's records to that topic's :class:`~streams.pipeline.IngestPipeline`, and only once every
pipeline has written its records commits, per partition, the offset after the batch's last
record. A crash at any point therefore replays the uncommitted tail and skips nothing; the
event_id key (ReplacingMergeTree) makes the replay exactly-once in storage.

Why not a Faust agent: Faust's stream turns every record into an event object with about ten
event-loop callbacks and four tasks, plus an ``ack`` each, which cost about a third of a
worker's CPU per event on the cheap path. The ingest path needs none of it: batches in,
offsets out. (Faust keeps the web API, the window timer and alert delivery, in a consumer
group of its own: see :func:`streams.app.build_app`.)

Rebalances: a partition is revoked only once the batch in flight is written and committed
(the listener waits for the same lock the loop holds around process + commit), so the worker
taking it over starts where this one stopped instead of replaying the batch. A commit that
fails anyway (the group moved on: the member was too slow or lost its session) is logged and
counted, not fatal: those records are replayed by their next owner and storage drops the
doubles. A batch whose processing raises is replayed too, from its first offset, after a
pause: the loop never moves past records it did not write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from streams.metrics import Metrics
from streams.records import Record
from streams.settings import Settings

log = logging.getLogger(__name__)

# How long a stopping worker waits for its batch in flight (written and committed) before it
# cancels it; a cancelled batch is not committed and is replayed, so this only bounds how long
# a SIGTERM can take while ClickHouse refuses writes.
STOP_GRACE_SECONDS = 10.0


class Pipeline(Protocol):
    """What a topic's records go to (:class:`~streams.pipeline.IngestPipeline`): returns once
    they are durably written, raises otherwise."""

    async def process(self, records: Sequence[Record]) -> None: ...


def consumer_options(settings: Settings, max_record_bytes: int) -> dict[str, Any]:
    """The ingest consumer's aiokafka options: the worker's group, manual commits."""
    session_ms = int(settings.kafka_session_timeout_seconds * 1000)
    return {
        "bootstrap_servers": settings.bootstrap_servers(),
        "group_id": settings.consumer_group,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": session_ms,
        # A JoinGroup can be held by the broker until a dead member's session expires: the
        # request must outlast the session, or a restarted worker times out and rejoins.
        "request_timeout_ms": max(40_000, session_ms + 5_000),
        # One record may be as large as the DLQ must carry whole (aiokafka's fetch_max_bytes,
        # 50 MiB, is above it).
        "max_partition_fetch_bytes": max_record_bytes,
        **settings.kafka_client_options(),
    }


class _WaitForBatchInFlight(ConsumerRebalanceListener):
    """Revocation waits until the batch in flight is written and its offsets committed."""

    def __init__(self, in_flight: asyncio.Lock) -> None:
        self._in_flight = in_flight

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._in_flight:
            log.info("ingest: %d partitions revoked", len(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("ingest: assigned %s", sorted((tp.topic, tp.partition) for tp in assigned))


class IngestConsumer:
    """Consumes the event topics into their pipelines; :meth:`run` until :meth:`stop`.

    ``pipelines`` maps each source topic to its pipeline; ``options`` are the
    ``AIOKafkaConsumer`` arguments (see :func:`consumer_options`); ``retry_seconds`` is the
    pause before a batch whose processing failed is taken again.
    """

    def __init__(
        self, pipelines: Mapping[str, Pipeline], options: Mapping[str, Any],
        metrics: Metrics, batch_size: int, batch_seconds: float, retry_seconds: float = 1.0,
    ) -> None:
        self.pipelines = dict(pipelines)
        self.options = dict(options)
        self.metrics = metrics
        self.batch_size = batch_size
        self.timeout_ms = int(batch_seconds * 1000)
        self.retry_seconds = retry_seconds
        self._in_flight = asyncio.Lock()
        self._stopping = False
        self._task: asyncio.Task | None = None

    async def run(self) -> None:
        """Consume until :meth:`stop`. A consumer that fails (it cannot start, or an error no
        batch handles) is replaced by a new one, which resumes from the committed offsets."""
        self._task = asyncio.current_task()
        while not self._stopping:
            try:
                await self._consume()
            except Exception:
                log.exception("ingest: the consumer failed; a new one starts in %.1fs",
                              self.retry_seconds)
                self.metrics.inc("seismo_ingest_failures_total", stage="consumer")
                await asyncio.sleep(self.retry_seconds)

    async def _consume(self) -> None:
        """One consumer's life: join the group, take batches, leave the group on the way out."""
        consumer = AIOKafkaConsumer(**self.options)
        consumer.subscribe(list(self.pipelines), listener=_WaitForBatchInFlight(self._in_flight))
        try:
            await consumer.start()
            while not self._stopping:
                try:
                    batch = await consumer.getmany(
                        timeout_ms=self.timeout_ms, max_records=self.batch_size
                    )
                except KafkaError as exc:  # aiokafka retries connections itself; log and go on
                    log.warning("ingest: fetching failed, retrying: %s", exc)
                    self.metrics.inc("seismo_ingest_failures_total", stage="fetch")
                    await asyncio.sleep(self.retry_seconds)
                    continue
                if batch:
                    # Taken before any await: a revocation cannot slip in between.
                    async with self._in_flight:
                        await self._write_and_commit(consumer, batch)
        finally:
            await consumer.stop()

    async def stop(self) -> None:
        """Finish the batch in flight (or cancel it after a grace period), then stop."""
        self._stopping = True
        task = self._task
        if task is None or task.done() or task is asyncio.current_task():
            return
        done, _ = await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
        if not done:
            log.warning("ingest: batch still in flight after %.0fs; cancelled, it will be "
                        "replayed", STOP_GRACE_SECONDS)
            task.cancel()
            await asyncio.wait({task})

    async def _write_and_commit(
        self, consumer: AIOKafkaConsumer, batch: dict[TopicPartition, list[Any]]
    ) -> None:
        # aiokafka's ConsumerRecord has every field of a Record (headers as (str, bytes)
        # pairs), so the pipelines take the records as they come: no copy per record.
        by_topic: dict[str, list[Any]] = {}
        for tp, messages in batch.items():
            by_topic.setdefault(tp.topic, []).extend(messages)
        try:
            for topic, records in by_topic.items():
                await self.pipelines[topic].process(records)
        except Exception:
            log.exception("ingest: a batch of %d records failed; replaying it in %.1fs",
                          sum(map(len, by_topic.values())), self.retry_seconds)
            self.metrics.inc("seismo_ingest_failures_total", stage="process")
            for tp, messages in batch.items():
                # Not ours any more: its next owner starts from the committed offset anyway.
                with contextlib.suppress(KafkaError):
                    consumer.seek(tp, messages[0].offset)
            await asyncio.sleep(self.retry_seconds)
            return
        offsets = {tp: messages[-1].offset + 1 for tp, messages in batch.items()}
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:
            # Written but not committed: whoever consumes these partitions next replays the
            # records, and the event_id key keeps one row each.
            log.warning("ingest: commit of %d partitions failed, the records will be replayed:"
                        " %s", len(offsets), exc)
            self.metrics.inc("seismo_commit_failures_total")
