"""Consumer lag as the broker reports it: end offsets against the group's commits."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from streams.kafka.admin import ensure_topics
from streams.kafka.lag import ConsumerLag
from streams.testing.ports import free_port
from tests.support.workers import produce_raw


async def figure(lag: ConsumerLag, timeout: float = 60) -> dict:
    """The first figure the broker gives: on a fresh broker the group coordinator (the
    __consumer_offsets topic) takes a moment to exist, which the worker simply retries."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (result := await lag.measure()) is None:
        assert asyncio.get_running_loop().time() < deadline, "no lag figure from the broker"
        await asyncio.sleep(0.25)
    return result


def test_lag_counts_records_the_group_has_not_committed(kafka_bootstrap: str) -> None:
    topic, group = f"lag-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    asyncio.run(ensure_topics(kafka_bootstrap, {topic: 2}))
    produce_raw(kafka_bootstrap, topic, [b"x"] * 7, keys=[b"a"] * 7)  # one partition

    async def measure_before_and_after_a_commit() -> tuple[dict, dict]:
        lag = ConsumerLag(kafka_bootstrap, group, [topic])
        try:
            before = await figure(lag)
            partition = next(p for (_, p), n in before.items() if n)
            consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group,
                                        enable_auto_commit=False)
            await consumer.start()
            try:
                tp = TopicPartition(topic, partition)
                consumer.assign([tp])
                await consumer.commit({tp: OffsetAndMetadata(5, "")})
            finally:
                await consumer.stop()
            return before, await figure(lag)
        finally:
            await lag.close()

    before, after = asyncio.run(measure_before_and_after_a_commit())
    assert sorted(before.values()) == [0, 7]  # never committed: counted from the first offset
    assert sorted(after.values()) == [0, 2]


def test_an_unreachable_broker_gives_no_figure_rather_than_an_error() -> None:
    async def measure() -> object:
        lag = ConsumerLag(f"127.0.0.1:{free_port()}", "g", ["t"], request_timeout=2)
        try:
            return await lag.measure()
        finally:
            await lag.close()

    assert asyncio.run(measure()) is None
