"""The broker goes away for 20 seconds mid-stream and comes back with its data: the worker
reconnects by itself, loses nothing and stores nothing twice.

This test stops a broker of its own (not the session's, which other tests share).
"""

from __future__ import annotations

import time

from tests.support.faults import (
    COUNT_FINAL,
    assert_events_exactly_once,
    committed_offsets,
    counters,
    publish,
    traffic,
)
from tests.support.workers import wait_for

EVENTS = 12_000
OUTAGE_SECONDS = 20


def test_worker_rides_out_a_20_s_broker_outage(own_broker, worker_factory) -> None:
    dep = worker_factory(bootstrap=own_broker.bootstrap)
    dep.extra_env.update({"SEISMO_EMBEDDING_ENABLED": "false", "SEISMO_BATCH_SIZE": "500"})
    events = traffic(EVENTS, seed=41)
    publish(dep.bootstrap, dep.traces_topic, events)
    dep.start()
    wait_for(lambda: dep.scalar("SELECT count() FROM events") >= EVENTS // 4, 120,
             "a quarter of the stream")

    own_broker.down()
    stored = dep.scalar("SELECT count() FROM events")
    # The fault itself: the broker stays away this long (a sleep that is the outage's
    # duration, not a wait for something to happen).
    time.sleep(OUTAGE_SECONDS)
    assert dep.process.poll() is None, f"the worker died without its broker:\n{dep.log()}"
    assert counters(dep)  # and still answers
    assert stored < EVENTS, "the outage came after the end of the stream"
    own_broker.up(timeout=120)

    dep.wait_rows(COUNT_FINAL, EVENTS, timeout=180)
    assert_events_exactly_once(dep, events)
    group = dep.env()["SEISMO_CONSUMER_GROUP"]
    wait_for(lambda: sum(committed_offsets(dep.bootstrap, group, dep.traces_topic).values())
             == EVENTS, 60, "the offsets of every event committed")
    print(f"\nbroker down for {OUTAGE_SECONDS} s with {stored} of {EVENTS} events stored")
