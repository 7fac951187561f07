"""The ingest consumer on the real broker and the embedded ClickHouse: offsets are committed
only behind what is stored, and partitions move between workers without a record lost or
written twice.

Both consumers run in this process and write to one store (a ClickHouse server shared by two
workers); every event is a distinct valid event, so a partition's committed offset counts the
events of that partition that must already be stored. Batches are prepared in an ingest process
(the default) or, where a test says ``processes=0``, in the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from schemas.tables import EVENT_COLUMNS, EVENTS
from streams.ingest.dead_letters import DeadLetters, Send
from streams.ingest.pipeline import IngestPipeline
from streams.ingest.pool import PreparePool
from streams.ingest.prepare import PrepareConfig, Preparer
from streams.kafka.admin import ensure_topics
from streams.kafka.consumer import IngestConsumer, consumer_options
from streams.metrics import Metrics
from streams.service.app import MAX_RECORD_BYTES
from streams.settings import Settings
from streams.store.client import ClickHouseStore
from streams.store.sink import ClickHouseSink
from streams.testing.faults import SinkOutagePlan, SinkOutageStore
from streams.testing.generator import GeneratorConfig, TrafficGenerator, to_json_line
from streams.testing.publish import stream_key
from tests.support.faults import committed_offsets

PARTITIONS = 4

# (partition, offset) -> event_id of the record published there
Placement = dict[tuple[int, int], str]


@pytest.fixture(scope="module")
def store(chdb_store: ClickHouseStore) -> ClickHouseStore:
    return chdb_store


def events(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` generated events whose ids are this run's alone (the store is the module's)."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    run = uuid.uuid4().hex[:8]
    config = GeneratorConfig(seed=seed, start=start, events_per_second=100.0)
    return [{**e, "event_id": f"{run}-{e['event_id']}"}
            for e in TrafficGenerator(config).events(n)]


async def publish(bootstrap: str, topic: str, batch: list[dict[str, Any]]) -> Placement:
    """Publish keyed ``app/model`` as apps do; where each event landed."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = [await producer.send(topic, to_json_line(e), key=stream_key(e)) for e in batch]
        placed = await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return {(m.partition, m.offset): e["event_id"] for m, e in zip(placed, batch, strict=True)}


async def committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    return await asyncio.to_thread(committed_offsets, bootstrap, group, topic)


async def stored(store: Any, ids: set[str], final: bool = True) -> list[str]:
    """The stored event_ids among ``ids`` (one per row: without FINAL, doubles show)."""
    sql = (f"SELECT event_id FROM events {'FINAL' if final else ''} "
           "WHERE has({ids:Array(String)}, event_id)")
    _, rows = await store.run(store.query, sql, {"ids": sorted(ids)})
    return [r[0] for r in rows]


async def until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``condition`` (a function, or one returning an awaitable) until it is truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


def no_dead_letters(key: bytes | None, value: bytes | None, headers: list) -> Any:
    raise AssertionError("a valid event was dead-lettered")


def ingest(
    store: Any, bootstrap: str, group: str, topic: str, batch_size: int,
    dead_letter: Send = no_dead_letters, processes: int = 1,
) -> IngestConsumer:
    """A worker's ingest consumer for ``topic``, writing events to ``store``; batches are
    prepared in ``processes`` ingest processes (0: in the event loop)."""
    settings = Settings(kafka_bootstrap_servers=bootstrap, consumer_group=group,
                        traces_topic=topic, batch_size=batch_size)
    metrics = Metrics()
    config = PrepareConfig.from_settings(settings, salt="deployment-salt")  # as a worker keys it
    pool = PreparePool(config, processes, metrics) if processes else None
    pipeline = IngestPipeline(
        prepare=pool.for_source("trace") if pool else Preparer(config).in_loop("trace"),
        sink=ClickHouseSink(store, EVENTS, EVENT_COLUMNS, min_backoff=0.2, max_backoff=0.5),
        dead_letters=DeadLetters(dead_letter),
        metrics=metrics,
    )
    return IngestConsumer({topic: pipeline}, consumer_options(settings, MAX_RECORD_BYTES),
                          metrics, settings.batch_size, settings.batch_seconds, processes=pool)


def new_stream(bootstrap: str, n: int, seed: int) -> tuple[str, str, list[dict], set[str]]:
    """A topic of its own, a group of its own, ``n`` events for it and their ids."""
    name = uuid.uuid4().hex[:8]
    asyncio.run(ensure_topics(bootstrap, {f"ingest-{name}": PARTITIONS}))
    stream = events(n, seed)
    return f"ingest-{name}", f"ingest-group-{name}", stream, {e["event_id"] for e in stream}


def written(consumer: IngestConsumer) -> float:
    return consumer.metrics.value("seismo_events_written_total")


def test_partitions_move_between_two_consumers_mid_stream_without_loss_or_doubles(
    kafka_bootstrap: str, store: ClickHouseStore
) -> None:
    topic, group, stream, ids = new_stream(kafka_bootstrap, 20_000, seed=61)

    async def scenario() -> tuple[float, float]:
        # Published in three parts, so the stream cannot run out before each step below: a
        # consumer that scans fast could otherwise drain it before the group rebalances.
        parts = (stream[:8_000], stream[8_000:14_000], stream[14_000:])
        await publish(kafka_bootstrap, topic, parts[0])
        first = ingest(store, kafka_bootstrap, group, topic, batch_size=250)
        second = ingest(store, kafka_bootstrap, group, topic, batch_size=250)
        running = [asyncio.create_task(first.run())]
        try:
            # The second joins while the first is mid-stream: the first gives up half of its
            # partitions with a batch in flight.
            await until(lambda: written(first) >= 1_000, 120, "the first to write 1,000 events")
            running.append(asyncio.create_task(second.run()))
            # The second part trickles in while the group rebalances: published at once, a
            # fast first consumer could drain it before the second owns a partition.
            for start in range(0, len(parts[1]), 500):
                await publish(kafka_bootstrap, topic, parts[1][start:start + 500])
                if written(second) == 0:
                    with contextlib.suppress(AssertionError):
                        await until(lambda: written(second) > 0, 2, "")
            await until(lambda: written(second) > 0, 120, "the second to take partitions")
            # Then the first leaves mid-stream: the second takes every partition, and the rest
            # of the stream arrives only then.
            await first.stop()
            await running[0]
            await publish(kafka_bootstrap, topic, parts[2])
            await until(lambda: sum_is(committed(kafka_bootstrap, group, topic), len(ids)),
                        120, "every offset committed")
            await until(lambda: written(first) + written(second) >= len(ids), 30,
                        "the last batch counted")
            return written(first), written(second)
        finally:
            for consumer in (first, second):
                await consumer.stop()
            await asyncio.gather(*running, return_exceptions=True)

    by_first, by_second = asyncio.run(scenario())
    assert by_first > 0 and by_second > 0
    # Each event stored once, and written once: no partition was replayed by its next owner.
    rows = asyncio.run(stored(store, ids, final=False))
    assert len(rows) == len(ids) and set(rows) == ids
    assert by_first + by_second == len(ids)


async def sum_is(offsets: Awaitable[dict[int, int]], expected: int) -> bool:
    return sum((await offsets).values()) == expected


@pytest.mark.parametrize("processes", [0, 1], ids=["in-loop", "ingest-process"])
def test_offsets_are_committed_only_behind_what_the_sink_wrote(
    kafka_bootstrap: str, store: ClickHouseStore, processes: int
) -> None:
    topic, group, stream, ids = new_stream(kafka_bootstrap, 5_000, seed=62)
    # Inserts fail for 4 s once 1,000 rows are in (counted from here: the store is shared).
    failing = SinkOutageStore(store, SinkOutagePlan(after_rows=1_000, seconds=4))

    async def scenario() -> list[tuple[int, int]]:
        placement = await publish(kafka_bootstrap, topic, stream)
        consumer = ingest(failing, kafka_bootstrap, group, topic, batch_size=200,
                          processes=processes)
        task = asyncio.create_task(consumer.run())
        samples = []
        try:
            # Sample until everything is stored: each time, the committed offsets first, then
            # storage, which must hold every record before them.
            while len(present := set(await stored(store, ids))) < len(ids):
                offsets = await committed(kafka_bootstrap, group, topic)
                present = set(await stored(store, ids))
                behind = {placement[(p, o)] for p, end in offsets.items() for o in range(end)}
                assert behind <= present, f"{len(behind - present)} committed, not stored"
                samples.append((sum(offsets.values()), len(present)))
                await asyncio.sleep(0.1)  # a sampling interval, not a wait for a condition
            await until(lambda: sum_is(committed(kafka_bootstrap, group, topic), len(ids)),
                        60, "every offset committed")
        finally:
            await consumer.stop()
            await task
        failures = consumer.metrics.value("seismo_sink_failures_total")
        assert failures >= 2, "the sink did not fail: the boundary was not tested"
        return samples

    samples = asyncio.run(scenario())
    # During the outage nothing was committed past the last write, then everything landed once.
    assert any(0 < c < len(ids) for c, _ in samples)
    assert sorted(asyncio.run(stored(store, ids, final=False))) == sorted(ids)


def test_a_batch_that_fails_is_taken_again_from_its_first_record(
    kafka_bootstrap: str, store: ClickHouseStore
) -> None:
    topic, group, stream, ids = new_stream(kafka_bootstrap, 300, seed=63)
    bad = b"not json"
    # The DLQ refuses the bad record once (the dead-letter topic is away), then takes it.
    sent: list[bytes | None] = []

    async def flaky_dlq(key: bytes | None, value: bytes | None, headers: list) -> Any:
        sent.append(value)
        if len(sent) == 1:
            raise ConnectionError("dead-letter topic unavailable")
        return asyncio.sleep(0)

    async def scenario() -> IngestConsumer:
        await publish(kafka_bootstrap, topic, stream[:150])
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, bad, partition=0)
        finally:
            await producer.stop()
        await publish(kafka_bootstrap, topic, stream[150:])
        consumer = ingest(store, kafka_bootstrap, group, topic, 1_000, dead_letter=flaky_dlq,
                          processes=0)
        task = asyncio.create_task(consumer.run())
        try:
            await until(lambda: sum_is(committed(kafka_bootstrap, group, topic), len(ids) + 1),
                        60, "every offset committed")
        finally:
            await consumer.stop()
            await task
        return consumer

    consumer = asyncio.run(scenario())
    assert consumer.metrics.value("seismo_ingest_failures_total", stage="process") == 1
    assert sent == [bad, bad]  # refused, then dead-lettered on the second take
    assert sorted(asyncio.run(stored(store, ids))) == sorted(ids)
