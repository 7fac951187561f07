"""The ingest path's Kafka side: one plain aiokafka consumer over every event topic.

Each turn of the loop takes one batch (``getmany``, bounded by size and time), hands each
topic's records to that topic's :class:`~streams.ingest.pipeline.IngestPipeline`, and only
once every pipeline has written its records commits, per partition, the offset after the
batch's last record. A crash at any point therefore replays the uncommitted tail and skips
nothing; the event_id key (ReplacingMergeTree) makes the replay exactly-once in storage.

Why not a Faust agent: an agent that only takes and acknowledges records costs 149 µs of CPU
per event against 4 for this consumer (README, "Why ingestion is a plain aiokafka consumer",
the one place that explains the split). The ingest path needs none of Faust's per-record
machinery: batches in, offsets out. (Faust keeps the web API, the window timer and alert
delivery, in a consumer group of its own: see :func:`streams.service.app.build_app`.)

Pipelining: each batch is submitted for preparation (decode, scanners, rows; in an ingest
process when ``ingest_processes`` > 0, see :mod:`streams.ingest.pool`) as soon as it is
fetched, and the next batch is fetched while the current one is written. So an ingest process
prepares batch N+1 while the event loop inserts batch N, publishes its dead letters and commits
it. At most one batch is taken ahead of the one being written: the next fetch starts only once
the batch before is committed, so memory stays bounded and a sink that refuses writes stops
intake after one batch more (backpressure). Commits stay in order: batch N+1 is written only
after batch N is committed.

Rebalances: a partition is revoked only once every batch taken from the consumer is written
and committed (the listener waits until none is in flight; aiokafka hands out no new records
while a rebalance is under way), so the worker taking it over starts where this one stopped
instead of replaying. A commit that fails anyway (the group moved on: the member was too slow
or lost its session) is logged and counted, not fatal: those records are replayed by their next
owner and storage drops the doubles. A batch that fails for some record's sake is retried and
then split by its pipeline until the poison records are isolated and dead-lettered
(:mod:`streams.ingest.pipeline`); only a batch its pipeline could not write at all (the DLQ's broker
away) is replayed, from its first offset, after a pause, and so is the batch taken after it:
the loop never moves past records it did not write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from streams.kafka.records import Record
from streams.metrics import Metrics
from streams.settings import Settings

log = logging.getLogger(__name__)

# How long a stopping worker waits for its batch in flight (written and committed) before it
# cancels it; a cancelled batch is not committed and is replayed, so this only bounds how long
# a SIGTERM can take while ClickHouse refuses writes.
STOP_GRACE_SECONDS = 10.0


class Pipeline(Protocol):
    """What a topic's records go to (:class:`~streams.ingest.pipeline.IngestPipeline`)."""

    def prepare(self, records: Sequence[Record]) -> Awaitable[Any]:
        """Start preparing a batch (it may go on while the one before is written)."""
        ...

    async def write(self, records: Sequence[Record], prepared: Awaitable[Any]) -> None:
        """Returns once the batch (its preparation awaited here) is durably written, raises
        otherwise."""
        ...


@runtime_checkable
class Holding(Protocol):
    """A pipeline that keeps what some records hold past their batch
    (:class:`~streams.ingest.log_join.LogJoin`: log records waiting for their span): their
    offsets are committed only once it lets go of them."""

    def offsets(self) -> dict[TopicPartition, int]:
        """What may be committed, per partition it has taken records from."""
        ...

    async def tick(self) -> None:
        """Work on what it holds (called after every batch and when none comes)."""
        ...

    def revoked(self, partitions: set[TopicPartition]) -> None:
        """Let go of the offsets of partitions another worker owns now."""
        ...


class Processes(Protocol):
    """The ingest processes the pipelines prepare batches in
    (:class:`~streams.ingest.pool.PreparePool`): started and closed with the consumer."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...


def consumer_options(settings: Settings, max_record_bytes: int) -> dict[str, Any]:
    """The ingest consumer's aiokafka options: the worker's group, manual commits."""
    session_ms = int(settings.kafka_session_timeout_seconds * 1000)
    return {
        "bootstrap_servers": settings.bootstrap_servers(),
        "group_id": settings.consumer_group,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        # Records of an aborted transaction never happened for their producer (a transactional
        # app retries them in a new transaction): reading them would store calls twice or store
        # calls that were rolled back. The price: a partition is read only up to its oldest
        # open transaction, so a producer that hangs mid-transaction holds it back until the
        # broker aborts it (the producer's transaction.timeout.ms, one minute by default).
        "isolation_level": "read_committed",
        "session_timeout_ms": session_ms,
        # A JoinGroup can be held by the broker until a dead member's session expires: the
        # request must outlast the session, or a restarted worker times out and rejoins.
        "request_timeout_ms": max(40_000, session_ms + 5_000),
        # One record may be as large as the DLQ must carry whole (aiokafka's fetch_max_bytes,
        # 50 MiB, is above it).
        "max_partition_fetch_bytes": max_record_bytes,
        **settings.kafka_client_options(),
    }


class _InFlight:
    """Batches taken from the consumer and not yet committed (nor dropped for replay)."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def taken(self) -> None:
        self._count += 1
        self._idle.clear()

    def settled(self) -> None:
        self._count -= 1
        if self._count == 0:
            self._idle.set()

    def clear(self) -> None:
        self._count = 0
        self._idle.set()

    async def idle(self) -> None:
        await self._idle.wait()


class _WaitForBatchesInFlight(ConsumerRebalanceListener):
    """Revocation waits until every batch taken is written and its offsets committed."""

    def __init__(self, in_flight: _InFlight, holding: Sequence[Holding] = ()) -> None:
        self._in_flight = in_flight
        self._holding = holding

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._in_flight.idle()
        for pipeline in self._holding:
            pipeline.revoked(revoked)
        log.info("ingest: %d partitions revoked", len(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("ingest: assigned %s", sorted((tp.topic, tp.partition) for tp in assigned))


@dataclass
class _Batch:
    """One ``getmany`` result, its records by topic and their preparation under way."""

    by_partition: dict[TopicPartition, list[Any]]
    by_topic: dict[str, list[Any]]
    prepared: dict[str, Awaitable[Any]]

    def drop(self) -> None:
        """Give up the preparation (the batch is replayed): nothing left pending or unread."""
        for prepared in self.prepared.values():
            if isinstance(prepared, asyncio.Future):
                if not prepared.done():
                    prepared.cancel()
                elif not prepared.cancelled():
                    prepared.exception()  # read: no "exception never retrieved" warning


class IngestConsumer:
    """Consumes the event topics into their pipelines; :meth:`run` until :meth:`stop`.

    ``pipelines`` maps each source topic to its pipeline; ``options`` are the
    ``AIOKafkaConsumer`` arguments (see :func:`consumer_options`); ``retry_seconds`` is the
    pause before a batch whose processing failed is taken again; ``processes``, when given,
    are the ingest processes the pipelines prepare in, started by :meth:`run` and closed when
    it returns.
    """

    def __init__(
        self, pipelines: Mapping[str, Pipeline], options: Mapping[str, Any],
        metrics: Metrics, batch_size: int, batch_seconds: float, retry_seconds: float = 1.0,
        processes: Processes | None = None,
    ) -> None:
        self.pipelines = dict(pipelines)
        self.options = dict(options)
        self.metrics = metrics
        self.batch_size = batch_size
        self.timeout_ms = int(batch_seconds * 1000)
        self.retry_seconds = retry_seconds
        self.processes = processes
        self._in_flight = _InFlight()
        self._holding = [p for p in self.pipelines.values() if isinstance(p, Holding)]
        self._held: dict[TopicPartition, int] = {}
        self._stopping = False
        self._task: asyncio.Task | None = None

    async def run(self) -> None:
        """Consume until :meth:`stop`. A consumer that fails (it cannot start, or an error no
        batch handles) is replaced by a new one, which resumes from the committed offsets."""
        self._task = asyncio.current_task()
        if self.processes is not None:
            await self.processes.start()
        try:
            while not self._stopping:
                try:
                    await self._consume()
                except Exception:
                    log.exception("ingest: the consumer failed; a new one starts in %.1fs",
                                  self.retry_seconds)
                    self.metrics.inc("seismo_ingest_failures_total", stage="consumer")
                    await asyncio.sleep(self.retry_seconds)
        finally:
            if self.processes is not None:
                await self.processes.close()

    async def _consume(self) -> None:
        """One consumer's life: join the group, take batches, leave the group on the way out."""
        consumer = AIOKafkaConsumer(**self.options)
        consumer.subscribe(list(self.pipelines),
                           listener=_WaitForBatchesInFlight(self._in_flight, self._holding))
        fetch: asyncio.Task[_Batch | None] | None = None
        try:
            await consumer.start()
            while not self._stopping:
                batch = await (fetch or self._take(consumer))
                fetch = None
                if batch is None:
                    await self._tick(consumer)
                    continue
                # The next batch is fetched, and its preparation started, while this one is
                # written: the one batch taken ahead.
                fetch = asyncio.ensure_future(self._take(consumer))
                if not await self._write_and_commit(consumer, batch):
                    # Replayed from its first record, and the batch taken after it with it.
                    # Settled before that fetch is awaited: a revocation under way holds the
                    # fetch back until no batch is in flight. (Seeking a partition revoked
                    # meanwhile does nothing: its next owner starts from the committed offset.)
                    self._in_flight.settled()
                    later, fetch = await fetch, None
                    if later is not None:
                        self._in_flight.settled()
                    self._rewind(consumer, batch, *([later] if later else []))
                    await asyncio.sleep(self.retry_seconds)
        finally:
            if fetch is not None:  # stopping: what was taken ahead is replayed by whoever's next
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    if later := await fetch:
                        later.drop()
            self._in_flight.clear()
            await consumer.stop()

    async def _take(self, consumer: AIOKafkaConsumer) -> _Batch | None:
        """The next batch, its preparation started; None when nothing came in time."""
        try:
            records = await consumer.getmany(timeout_ms=self.timeout_ms,
                                             max_records=self.batch_size)
        except KafkaError as exc:  # aiokafka retries connections itself; log and go on
            log.warning("ingest: fetching failed, retrying: %s", exc)
            self.metrics.inc("seismo_ingest_failures_total", stage="fetch")
            await asyncio.sleep(self.retry_seconds)
            return None
        if not records:
            return None
        # Counted before any await: a revocation cannot slip in between.
        self._in_flight.taken()
        # aiokafka's ConsumerRecord has every field of a Record (headers as (str, bytes)
        # pairs), so the pipelines take the records as they come: no copy per record.
        by_topic: dict[str, list[Any]] = {}
        for tp, messages in records.items():
            by_topic.setdefault(tp.topic, []).extend(messages)
        prepared = {topic: self.pipelines[topic].prepare(batch)
                    for topic, batch in by_topic.items()}
        return _Batch(records, by_topic, prepared)

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

    async def _write_and_commit(self, consumer: AIOKafkaConsumer, batch: _Batch) -> bool:
        """Write every topic's records, then commit; False when the batch must be replayed."""
        try:
            # In the pipelines' order, not the fetch's: spans are stored before the log records
            # that are joined to them.
            for topic, pipeline in self.pipelines.items():
                if topic in batch.by_topic:
                    await pipeline.write(batch.by_topic[topic], batch.prepared[topic])
            for holding in self._holding:
                await holding.tick()
        except Exception:
            log.exception("ingest: a batch of %d records failed; replaying it in %.1fs",
                          sum(map(len, batch.by_topic.values())), self.retry_seconds)
            self.metrics.inc("seismo_ingest_failures_total", stage="process")
            return False
        offsets = {tp: messages[-1].offset + 1 for tp, messages in batch.by_partition.items()}
        for holding in self._holding:
            offsets.update(holding.offsets())
        self._held.update(offsets)
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:
            # Written but not committed: whoever consumes these partitions next replays the
            # records, and the event_id key keeps one row each.
            log.warning("ingest: commit of %d partitions failed, the records will be replayed:"
                        " %s", len(offsets), exc)
            self.metrics.inc("seismo_commit_failures_total")
        self._in_flight.settled()
        return True

    async def _tick(self, consumer: AIOKafkaConsumer) -> None:
        """No batch came: let the holding pipelines work, commit what they let go of."""
        if not self._holding:
            return
        try:
            for holding in self._holding:
                await holding.tick()
            offsets = {tp: offset for holding in self._holding
                       for tp, offset in holding.offsets().items()
                       if self._held.get(tp) != offset}
            if offsets:
                await consumer.commit(offsets)
                self._held.update(offsets)
        except Exception as exc:  # retried on the next turn; nothing is committed past it
            log.warning("ingest: working on held records failed, retrying: %s", exc)
            self.metrics.inc("seismo_ingest_failures_total", stage="held")

    @staticmethod
    def _rewind(consumer: AIOKafkaConsumer, *batches: _Batch) -> None:
        """Seek back to the first record of ``batches`` on each partition; drop them."""
        first: dict[TopicPartition, int] = {}
        for batch in batches:
            for tp, messages in batch.by_partition.items():
                first[tp] = min(first.get(tp, messages[0].offset), messages[0].offset)
            batch.drop()
        for tp, offset in first.items():
            # Not ours any more: its next owner starts from the committed offset anyway.
            with contextlib.suppress(KafkaError):
                consumer.seek(tp, offset)
