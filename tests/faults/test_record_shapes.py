"""No record stalls the stream: every record shape Kafka allows, published by clients other
than Seismo's own, is stored or dead-lettered, and the next valid event lands within seconds.

kcat (librdkafka) publishes what aiokafka would refuse or never write: null and empty keys and
values, tombstones, a huge key, hundreds of headers, header values that are not UTF-8 (and
credentials in headers), each compression codec. confluent-kafka (librdkafka again, with
transactions) publishes a committed and an aborted transaction. Then the poison path (a record
whose batch fails only while it is in it, injected at the preparation boundary) and the health
check's "not progressing" state (ClickHouse refusing writes while events keep coming).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import confluent_kafka
import pytest

from streams.ingest.dead_letters import (
    DETAIL_HEADER,
    ENVELOPE_HEADER,
    ORIGIN_HEADERS,
    REASON_HEADER,
    REDACTED,
)
from streams.testing.faults import POISON_ENV, SINK_OUTAGE_ENV
from tests.support.faults import assert_events_exactly_once, counters
from tests.support.workers import Deployment, produce_raw, read_topic, wait_for

NEXT_EVENT_SECONDS = 10  # from a bad record to the next valid event stored
NOW = datetime.now(UTC).replace(microsecond=0)
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
EMAIL = "jane.doe@example.com"


def event(event_id: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": event_id, "timestamp": (NOW - timedelta(minutes=5)).isoformat(),
            "app": "shapes", "model": "m", "latency_ms": 12.5, "prompt": "hello",
            "completion": "hi", **fields}


def line(value: dict[str, Any] | bytes | str, key: bytes | str = b"shapes/m") -> bytes:
    """One kcat input line: key, tab, value (compact JSON has neither tab nor newline)."""
    if isinstance(value, dict):
        value = json.dumps(value)
    as_bytes = [part.encode() if isinstance(part, str) else part for part in (key, value)]
    return as_bytes[0] + b"\t" + as_bytes[1] + b"\n"


def kcat(bootstrap: str, topic: str, lines: list[bytes], *options: str | bytes) -> None:
    """Publish ``lines`` with kcat: ``-K`` splits key from value, ``-Z`` makes empty null."""
    binary = shutil.which("kcat")
    if binary is None:
        pytest.fail("kcat is needed (make system-deps: apt-get install kcat)", pytrace=False)
    subprocess.run(
        [binary, "-b", bootstrap, "-t", topic, "-P", "-K", "\t",
         "-X", "message.max.bytes=4000000", *options],
        input=b"".join(lines), check=True, timeout=60, capture_output=True,
    )


def stored(dep: Deployment, event_id: str) -> bool:
    return dep.scalar("SELECT count() FROM events FINAL WHERE event_id = {id:String}",
                      {"id": event_id}) == 1


def transactions(bootstrap: str, topic: str, name: str, committed: list[dict],
                 aborted: list[dict]) -> None:
    """One committed and one aborted transaction from librdkafka's transactional producer."""
    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap,
                                         "transactional.id": f"shapes-{name}"})
    producer.init_transactions(60)
    for batch, finish in ((committed, producer.commit_transaction),
                          (aborted, producer.abort_transaction)):
        producer.begin_transaction()
        for e in batch:
            producer.produce(topic, json.dumps(e).encode(), key=b"shapes/m")
        producer.flush(60)
        finish(60)


NOT_UTF8 = b"\xff\xfe\xc0\xaf"
HUGE_KEY = b"k" * 1_000_000


def record_shapes() -> list[tuple[str, list[str | bytes], list[bytes], list[dict]]]:
    """(name, kcat options, bad lines, valid events), each published with kcat in that order."""
    many_headers = [a for i in range(300) for a in ("-H", f"h{i}=v{i}")]
    secret_headers = ["-H", "authorization=Bearer sk-live-0123456789abcdef",
                      "-H", "x-api-key=key-0123456789", "-H", "Cookie=session=abc",
                      "-H", f"x-note=from {EMAIL}", "-H", b"x-binary=" + NOT_UTF8]
    planted = event("planted", status=f"{EMAIL} {AWS_KEY}")  # a schema error quoting them
    return [
        ("null key and null value", ["-Z"], [b"\t\n"], []),
        ("empty key and empty value", [], [b"\t\n"], []),
        ("tombstone", ["-Z"], [line(b"")], []),
        ("empty value", [], [line(b"")], []),
        ("null key, valid value", ["-Z"], [], [event("null-key")]),
        ("huge key", [], [line(b"{not json", HUGE_KEY)], [event("huge-key")]),
        ("many headers", many_headers, [line(b"{not json")], [event("many-headers")]),
        ("credential and binary headers", secret_headers,
         [line(planted), line(b"\xff not utf-8")], []),
        *((f"{codec} batch", ["-z", codec], [line(b"[1, 2")],
           [event(f"{codec}-1"), event(f"{codec}-2")])
          for codec in ("gzip", "snappy", "lz4", "zstd")),
    ]


def test_every_record_shape_is_stored_or_dead_lettered_and_the_next_event_lands_in_seconds(
    deployment: Deployment,
) -> None:
    dep, topic = deployment, deployment.traces_topic
    dep.extra_env["SEISMO_EMBEDDING_ENABLED"] = "false"
    dep.start()
    produce_raw(dep.bootstrap, topic, [json.dumps(event("warm-up")).encode()])
    wait_for(lambda: stored(dep, "warm-up"), 120, "the first event stored")

    shapes = record_shapes()
    valid = [event("warm-up")]
    bad = 0
    gaps: dict[str, float] = {}
    for i, (name, options, bad_lines, good) in enumerate(shapes):
        after = event(f"after-{i}")  # the next valid event, published right behind
        key = b"" if name.startswith("null key") else HUGE_KEY if name == "huge key" else None
        lines = [*bad_lines, *(line(e, key) if key is not None else line(e) for e in good)]
        valid += [*good, after]
        bad += len(bad_lines)
        started = time.monotonic()
        kcat(dep.bootstrap, topic, [*lines, line(after)], *options)
        wait_for(lambda after=after: stored(dep, after["event_id"]), 60, f"the event after {name}")
        gaps[name] = time.monotonic() - started

    committed = [event(f"committed-{i}") for i in range(5)]
    aborted = [event(f"aborted-{i}") for i in range(5)]
    started = time.monotonic()
    transactions(dep.bootstrap, topic, dep.name, committed, aborted)
    kcat(dep.bootstrap, topic, [line(event("after-abort"))])
    wait_for(lambda: stored(dep, "after-abort"), 60, "the event after an aborted transaction")
    gaps["aborted transaction"] = time.monotonic() - started
    valid += [*committed, event("after-abort")]

    slow = {name: round(gap, 1) for name, gap in gaps.items() if gap > NEXT_EVENT_SECONDS}
    assert not slow, f"the next event took longer than {NEXT_EVENT_SECONDS}s after {slow}"
    assert dep.scalar("SELECT count() FROM events WHERE event_id LIKE 'aborted-%'") == 0
    dep.wait_rows("SELECT count() FROM events FINAL", len(valid), timeout=30)
    assert_events_exactly_once(dep, valid)

    dead = read_topic(dep.bootstrap, dep.dlq_topic, bad, timeout=60)
    assert len(dead) == bad, [dict(r.headers).get(REASON_HEADER) for r in dead]
    headers = [dict(r.headers) for r in dead]
    assert all(h.get(REASON_HEADER) for h in headers)
    assert len({tuple(h[o] for o in ORIGIN_HEADERS) for h in headers}) == bad
    assert not any(b"aborted-" in (r.value or b"") for r in dead)
    # The record no client can send as it is went as an envelope; the others as they were.
    [envelope] = [r for r in dead if ENVELOPE_HEADER in dict(r.headers)]
    assert dict(envelope.headers)[REASON_HEADER] == b"empty"
    assert sum(r.key == b"k" * 1_000_000 for r in dead) == 1, "the huge key was not kept"
    assert max(len(r.headers) for r in dead) > 300, "the many headers were not kept"
    # The producer's credentials never reach the DLQ; the rest passes the redaction policy.
    [planted_dead] = [dict(r.headers) for r in dead if r.value and b'"planted"' in r.value]
    for name in ("authorization", "x-api-key", "Cookie"):
        assert planted_dead[name] == REDACTED, name
    assert EMAIL.encode() not in planted_dead["x-note"]
    assert planted_dead["x-binary"] == NOT_UTF8
    detail = planted_dead[DETAIL_HEADER]
    assert b"status" in detail and EMAIL.encode() not in detail and AWS_KEY.encode() not in detail
    assert dep.process.poll() is None
    print(f"\n{len(valid)} stored, {bad} dead-lettered; seconds to the next event: "
          + ", ".join(f"{name} {gap:.1f}" for name, gap in gaps.items()))


def test_a_poison_record_is_isolated_dead_lettered_and_the_rest_of_its_batch_stored(
    deployment: Deployment,
) -> None:
    marker = "@@poison@@"
    dep = deployment
    dep.extra_env.update({"SEISMO_EMBEDDING_ENABLED": "false", "SEISMO_BATCH_SIZE": "500",
                          POISON_ENV: marker})
    events = [event(f"e{i}") for i in range(400)]
    poison = event("poison", prompt=f"crashes the scanner {marker}")
    records = [json.dumps(e).encode() for e in [*events[:200], poison, *events[200:]]]
    produce_raw(dep.bootstrap, dep.traces_topic, records, keys=[b"shapes/m"] * len(records))
    started = time.monotonic()
    dep.start()

    dep.wait_rows("SELECT count() FROM events FINAL", len(events), timeout=120)
    elapsed = time.monotonic() - started
    assert_events_exactly_once(dep, events)
    [dead] = read_topic(dep.bootstrap, dep.dlq_topic, 1, timeout=30)
    headers = dict(dead.headers)
    assert headers[REASON_HEADER] == b"poison"
    assert b"InjectedPoison" in headers[DETAIL_HEADER]
    assert dead.value == records[200], "the DLQ lost the poison record's bytes"
    assert counters(dep)["seismo_poison_records_total"] == 1
    # The self-monitoring alert went the way alerts go: the alerts topic the notifiers read
    # (beside the Watchdog, which a worker running for a minute has sent there too).
    def poison_alerts() -> list[dict]:
        records = read_topic(dep.bootstrap, dep.env()["SEISMO_ALERTS_TOPIC"], 1, timeout=30)
        return [t for r in records if (t := json.loads(r.value))["rule"] != "Watchdog"]

    [transition] = wait_for(poison_alerts, 60, "the poison-records alert on the alerts topic")
    assert (transition["rule"], transition["state"]) == ("ingest_poison_records", "firing")
    assert transition["model"] == dep.traces_topic
    print(f"\n{len(events)} stored and 1 poison record dead-lettered {elapsed:.0f}s after start")


def test_health_says_not_progressing_while_writes_fail_and_events_keep_coming(
    deployment: Deployment,
) -> None:
    dep = deployment
    dep.extra_env.update({"SEISMO_EMBEDDING_ENABLED": "false", "SEISMO_STALL_SECONDS": "5",
                          SINK_OUTAGE_ENV: "100:25"})
    events = [event(f"e{i}") for i in range(2000)]
    produce_raw(dep.bootstrap, dep.traces_topic, [json.dumps(e).encode() for e in events[:100]])
    dep.start()
    assert dep.health()[0] == 200

    def keep_publishing() -> None:  # an app still sending while ClickHouse refuses writes
        for start in range(100, len(events), 50):
            produce_raw(dep.bootstrap, dep.traces_topic,
                        [json.dumps(e).encode() for e in events[start:start + 50]])
            time.sleep(0.5)  # the app's pace, not a wait for a condition

    publisher = threading.Thread(target=keep_publishing, daemon=True)
    publisher.start()
    status, body = wait_for(lambda: (s := dep.health())[0] == 503 and s, 60,
                            "health to report not progressing")
    assert body["status"] == "not progressing" and not body["progressing"]
    assert body["stalled_partitions"]
    wait_for(lambda: dep.health()[0] == 200, 90, "health to recover after the outage")
    publisher.join(timeout=120)
    dep.wait_rows("SELECT count() FROM events FINAL", len(events), timeout=120)
    assert_events_exactly_once(dep, events)
