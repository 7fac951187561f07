"""ClickHouse refuses writes for 30 seconds mid-stream: the worker holds its batch, takes no new
records (backpressure: memory stays bounded), commits no offset past what is stored, and
catches up afterwards with every event stored once.

The outage is injected at the sink boundary (``streams.testing.faults``, switched on by
``SEISMO_FAULT_SINK_OUTAGE``); everything else is real.
"""

from __future__ import annotations

import time

import pytest

from streams.testing.faults import SINK_OUTAGE_ENV
from tests.support.faults import (
    COUNT_FINAL,
    assert_events_exactly_once,
    committed_offsets,
    counters,
    publish,
    rss_mib,
    traffic,
)
from tests.support.workers import Deployment, wait_for

EVENTS = 20_000
OUTAGE_AFTER_ROWS = 3_000
OUTAGE_SECONDS = 30
# Each event carries an unknown field of this size (ignored by the worker, so it costs only
# transfer). A worker that stops pulling buffers a bounded number of records (the consumer's
# prefetched fetch, at most one per partition); one that kept pulling would hold the 17,000 records
# still unread when the outage starts, about 140 MB of values alone: the bound separates the two.
PADDING_BYTES = 8_192
MAX_RSS_GROWTH_MIB = 100


@pytest.mark.slow
def test_writes_failing_for_30_s_stall_intake_and_then_everything_lands_once(
    deployment: Deployment,
) -> None:
    deployment.extra_env.update({
        "SEISMO_EMBEDDING_ENABLED": "false",
        "SEISMO_BATCH_SIZE": "500",
        SINK_OUTAGE_ENV: f"{OUTAGE_AFTER_ROWS}:{OUTAGE_SECONDS}",
    })
    events = traffic(EVENTS, seed=21)
    publish(deployment.bootstrap, deployment.traces_topic,
            [{**e, "padding": "x" * PADDING_BYTES} for e in events])
    group = deployment.env()["SEISMO_CONSUMER_GROUP"]
    topic = deployment.traces_topic
    deployment.start()
    pid = deployment.process.pid

    wait_for(lambda: counters(deployment).get("seismo_sink_failures_total", 0) > 0, 120,
             "the first failed insert")
    detected = time.monotonic()
    stored = deployment.scalar("SELECT count() FROM events")
    assert 0 < stored < EVENTS, "the outage did not land mid-stream"
    taken = counters(deployment)["seismo_records_total"]
    rss_at_start = rss_mib(pid)

    # Sample well inside the outage (it began before `detected` and lasts 30 s).
    samples = []
    while time.monotonic() - detected < OUTAGE_SECONDS - 8:
        committed = sum(committed_offsets(deployment.bootstrap, group, topic).values())
        samples.append((deployment.scalar("SELECT count() FROM events"),
                        counters(deployment)["seismo_records_total"], committed, rss_mib(pid)))
        time.sleep(1)  # a sampling interval, not a wait for a condition
    assert len(samples) >= 10
    assert {rows for rows, *_ in samples} == {stored}, "rows landed during the outage"
    assert {n for _, n, *_ in samples} == {taken}, "records were taken during the outage"
    # Offsets committed never pass the records whose rows are stored (every record is a
    # valid, distinct event, so the committed offsets summed count stored events).
    assert max(c for *_, c, _ in samples) <= stored
    peak = max(rss for *_, rss in samples)
    assert peak - rss_at_start < MAX_RSS_GROWTH_MIB, (rss_at_start, peak)
    failures = counters(deployment)["seismo_sink_failures_total"]
    assert failures >= 3, "the sink did not retry"

    deployment.wait_rows(COUNT_FINAL, EVENTS)
    assert_events_exactly_once(deployment, events)
    wait_for(lambda: sum(committed_offsets(deployment.bootstrap, group, topic).values())
             == EVENTS, 30, "the offsets of every event committed")
    print(f"\noutage at {stored} rows: {failures:.0f} failed inserts, RSS {rss_at_start:.0f} → "
          f"{peak:.0f} MiB, committed ≤ {max(c for *_, c, _ in samples)}")
