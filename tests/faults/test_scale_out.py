"""Scaling out is Kafka partitions: two workers in one consumer group split eight partitions and
store what one worker stores; when one stops, the other takes its partitions over and finishes
the stream.

Each worker here has its own embedded store (one process per data directory), so the check is
on the union of the two. Window results are not compared: a key whose partition moves to the
other worker continues its history in the other store, so several workers need one ClickHouse
server for windows (DESIGN.md, "Real components").
"""

from __future__ import annotations

import signal

from aiokafka.partitioner import DefaultPartitioner

from schemas.tables import EVENT_COLUMNS
from streams.testing.publish import stream_key
from tests.support.faults import (
    COUNT_FINAL,
    SHORT_SESSION_ENV,
    group_assignment,
    publish,
    query_stopped,
    traffic,
)
from tests.support.workers import wait_for

PARTITIONS = 8
EVENTS = 8_000
# Everything the worker stores about an event except when it stored it.
ROW_DIGEST = (
    "SELECT event_id, toString(sipHash64(toString(tuple("
    + ", ".join(c for c in EVENT_COLUMNS if c not in ("event_id", "ingested_at"))
    + ")))) FROM events FINAL"
)


def partition_of(key: bytes) -> int:
    """The partition the producers' default partitioner gives a key."""
    return DefaultPartitioner()(key, list(range(PARTITIONS)), [])


def digests(rows: list[list[str]]) -> dict[str, str]:
    return {event_id: digest for event_id, digest in rows}


def test_two_workers_split_the_partitions_and_one_takes_over_from_the_other(
    worker_factory,
) -> None:
    # One salt for the three stores, as workers sharing a ClickHouse server share its generated
    # one: user_id pseudonyms (and hash tags) are then the same wherever an event is stored.
    env = {"SEISMO_EMBEDDING_ENABLED": "false", "SEISMO_BATCH_SIZE": "500",
           "SEISMO_REDACTION_SALT": "one-deployment", **SHORT_SESSION_ENV}
    single = worker_factory(partitions=PARTITIONS)
    first = worker_factory(partitions=PARTITIONS)
    single.extra_env.update(env)
    first.extra_env.update(env)
    second = worker_factory(of=first)
    group = first.env()["SEISMO_CONSUMER_GROUP"]
    topic = first.traces_topic

    first.start()
    second.start()
    def two_members() -> list[set[int]]:
        owned = group_assignment(first.bootstrap, group, topic)
        return owned if len(owned) == 2 else []

    owned = wait_for(two_members, 60, "a stable group of two")
    assert sorted(len(p) for p in owned) == [PARTITIONS // 2] * 2
    assert set().union(*owned) == set(range(PARTITIONS))

    events = traffic(EVENTS, seed=31)
    ids = {e["event_id"] for e in events}
    publish(single.bootstrap, single.traces_topic, events)
    single.start()
    half = EVENTS // 2
    publish(first.bootstrap, topic, events[:half])

    # Together they store the first half, each its share; then the second stops, and the
    # stream goes on.
    def first_half_stored() -> bool:
        return sum(w.scalar(COUNT_FINAL) for w in (first, second)) >= half

    wait_for(first_half_stored, 120, "the first half of the stream")
    assert second.scalar(COUNT_FINAL) > 0 and first.scalar(COUNT_FINAL) > 0
    assert second.stop(signal.SIGTERM) == 0
    publish(first.bootstrap, topic, events[half:])
    from_second = digests(query_stopped(second, ROW_DIGEST))
    # Records on the second worker's partitions it had not stored: the first must take them.
    partition = {e["event_id"]: partition_of(stream_key(e)) for e in events}
    its_partitions = {partition[i] for i in from_second}
    left_over = {i for i in ids if partition[i] in its_partitions} - from_second.keys()
    assert left_over
    wait_for(lambda: [len(p) for p in group_assignment(first.bootstrap, group, topic)]
             == [PARTITIONS], 60, "the first worker to own every partition")

    wait_for(lambda: ids <= set(from_second) | {r[0] for r in first.query(
        "SELECT event_id FROM events FINAL")}, 120, "the union of the stores to hold the stream")
    from_first = digests(first.query(ROW_DIGEST))
    assert set(from_first) | set(from_second) == ids
    assert left_over <= from_first.keys()
    both = from_first.keys() & from_second.keys()
    # A record the second worker stored but had not committed when it stopped is stored again
    # by the first: the same row, since every stored field is a function of the record.
    assert all(from_first[i] == from_second[i] for i in both)

    # The same rows as one worker alone stores.
    single.wait_rows(COUNT_FINAL, EVENTS)
    assert digests(single.query(ROW_DIGEST)) == {**from_second, **from_first}
    print(f"\nsecond worker stored {len(from_second)} before it stopped, leaving "
          f"{len(left_over)} on its partitions; the first stored {len(from_first)}; "
          f"{len(both)} stored by both")
