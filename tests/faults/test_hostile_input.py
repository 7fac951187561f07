"""Hostile input: whatever bytes a producer sends, the worker keeps running, and every record
ends either as a row in ``events`` or as a record in the DLQ — never both, never neither.

Hypothesis draws the records (arbitrary bytes, deep nesting, 10 MB payloads, NaN, negative and
absurd numbers, valid events with one hostile field); they are all published first and then
one worker consumes them, so the cost is one worker start whatever the number of examples.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.ingest.dead_letters import ORIGIN_HEADERS, REASON_HEADER
from tests.support.faults import counters
from tests.support.workers import Deployment, produce_raw, read_topic, wait_for

EXAMPLES = 60
TEN_MB = 10 * 1024 * 1024
DLQ_REASONS = {"empty", "too_large", "invalid_utf8", "invalid_json", "schema",
               "timestamp_in_future"}
NOW = datetime.now(UTC).replace(microsecond=0)
UNIQUE = "@@event_id@@"  # replaced by an event_id of the record's own once all are drawn


def valid_event() -> dict[str, Any]:
    return {"event_id": UNIQUE, "timestamp": (NOW - timedelta(minutes=5)).isoformat(),
            "app": "hostile", "model": "m", "latency_ms": 12.5, "prompt": "hello",
            "completion": "hi", "prompt_tokens": 3, "completion_tokens": 2}


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([0, -1, -0.0, 2**31, 2**32, 2**63, 2**64, 10**30, 1e308, 1e-320]),
)
texts = st.text(max_size=300)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, texts),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(texts, inner, max_size=4)),
    max_leaves=20,
)
timestamps = st.one_of(
    numbers,
    texts,
    st.datetimes(timezones=st.one_of(st.none(), st.just(UTC))).map(datetime.isoformat),
    st.integers(min_value=0, max_value=2**64),
)
FIELDS = ["event_id", "timestamp", "app", "model", "latency_ms", "prompt", "completion",
          "prompt_tokens", "completion_tokens", "ttft_ms", "status", "temperature",
          "step_index", "metadata", "prompt_version", "schema_version"]


@st.composite
def one_hostile_field(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event with one field replaced by anything (or removed)."""
    event = valid_event()
    name = draw(st.sampled_from(FIELDS))
    if draw(st.booleans()) and name in event:
        del event[name]
    else:
        event[name] = draw(st.one_of(
            numbers, texts, json_values,
            # counts and positions far outside any real call
            st.integers(min_value=2**31, max_value=2**70),
            timestamps if name == "timestamp" else st.nothing(),
        ))
    return event


@st.composite
def deeply_nested(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(min_value=10, max_value=200_000))
    nest = b"[" * depth + b"]" * depth
    if draw(st.booleans()):
        return nest
    return encode(valid_event()).replace(
        b'"prompt": "hello"', b'"prompt": "hello", "metadata": {"k": ' + nest + b"}")


@st.composite
def ten_megabytes(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["prompt", "noise", "nest"]))
    size = TEN_MB + draw(st.integers(min_value=0, max_value=4096))
    if kind == "prompt":
        return encode({**valid_event(), "prompt": "lorem ipsum " * (size // 12)})
    if kind == "noise":
        return random.Random(size).randbytes(size)
    return b"[" * (size // 2) + b"]" * (size // 2)


# JSON text a serializer would never write, spliced in where a value belongs.
NASTY_LITERALS = [b"NaN", b"-Infinity", b"1e999999", b"-0", b"9" * 5000, b'"\\ud800"',
                  b'"\\udfff\\ud800"', b'"a\\u0000b"', b'"\xef\xbb\xbf"', b'"\xc0\xaf"',
                  b"[" * 5000, b'{"a": 1, "a": 2}', b"null", b"true"]


@st.composite
def nasty_literal(draw: st.DrawFn) -> bytes:
    field = draw(st.sampled_from(["latency_ms", "prompt", "timestamp", "prompt_tokens"]))
    literal = draw(st.sampled_from(NASTY_LITERALS))
    event = {**valid_event(), field: "@@"}
    return encode(event).replace(b'"@@"', literal)


records = st.one_of(
    nasty_literal(),
    st.binary(max_size=4096),
    st.fixed_dictionaries({}, optional={f: json_values for f in FIELDS}),
    one_hostile_field(),
    one_hostile_field(),
    deeply_nested(),
    ten_megabytes(),
)


def encode(event: dict[str, Any]) -> bytes:
    """JSON as a sloppy producer writes it: NaN and Infinity literals included."""
    return json.dumps(event, allow_nan=True, default=str).encode("utf-8", "surrogatepass")


def hostile_records() -> list[bytes]:
    """Draw the records once, deterministically; the worker then sees them all at once."""
    drawn: list[Any] = []

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(records)
    def collect(record: Any) -> None:
        drawn.append(record)

    collect()
    unique = json.dumps(UNIQUE).encode()
    return [(r if isinstance(r, bytes) else encode(r)).replace(unique, f'"h{i}"'.encode())
            for i, r in enumerate(drawn)]


def crafted_records() -> list[bytes]:
    """Valid events that once stalled the worker: a batch spread over more than 100 months
    (ClickHouse refuses an insert touching more than 100 partitions by default), and an event
    as large as max_event_bytes allows made of e-mail addresses (redaction was quadratic in
    the number of findings)."""
    months = [encode({**valid_event(), "event_id": f"month-{i}",
                      "timestamp": f"{2001 + i // 12}-{1 + i % 12:02d}-15T12:00:00Z"})
              for i in range(120)]
    addresses = " ".join(f"user{i}@example.org" for i in range(50_000))[:1_000_000]
    return months + [encode({**valid_event(), "event_id": "addresses", "prompt": addresses})]


def test_every_hostile_record_is_stored_or_dead_lettered_and_the_worker_carries_on(
    deployment: Deployment,
) -> None:
    hostile = hostile_records() + crafted_records()
    assert sum(len(r) >= TEN_MB for r in hostile) >= 3, "draw some 10 MB records"
    # After the hostile ones, a valid event: the worker must still be taking records.
    last = encode({**valid_event(), "event_id": "sentinel", "prompt": "still alive"})
    published = hostile + [last]
    produce_raw(deployment.bootstrap, deployment.traces_topic, published)
    deployment.extra_env["SEISMO_EMBEDDING_ENABLED"] = "false"
    started = time.monotonic()
    deployment.start()

    def all_accounted() -> bool:
        stored = deployment.scalar("SELECT count() FROM events FINAL")
        return stored + counters(deployment).get("seismo_dlq_total", 0) >= len(published)

    wait_for(all_accounted, 180, "every record stored or dead-lettered")
    elapsed = time.monotonic() - started
    assert deployment.process.poll() is None, "the worker died"

    stored = deployment.scalar("SELECT count() FROM events FINAL")
    assert deployment.scalar("SELECT count() FROM events FINAL WHERE event_id = 'sentinel'") == 1
    assert deployment.scalar("SELECT count() FROM events FINAL WHERE event_id LIKE 'month-%'") \
        == 120
    assert deployment.scalar(
        "SELECT pii_counts['email'] FROM events FINAL WHERE event_id = 'addresses'") > 40_000
    dead = read_topic(deployment.bootstrap, deployment.dlq_topic, len(published) - stored,
                      timeout=60)
    assert stored + len(dead) == len(published)
    origins = {tuple(dict(r.headers)[h] for h in ORIGIN_HEADERS) for r in dead}
    assert len(origins) == len(dead), "a record was dead-lettered twice"
    reasons = Counter(dict(r.headers)[REASON_HEADER].decode() for r in dead)
    assert set(reasons) <= DLQ_REASONS, reasons
    # 10 MB records are over max_event_bytes: dead-lettered whole, never stored.
    assert reasons["too_large"] == sum(len(r) > 1_048_576 for r in published)
    assert all(len(r.value) > 1_048_576 for r in dead
               if dict(r.headers)[REASON_HEADER] == b"too_large")
    print(f"\n{len(published)} records: {stored} stored, DLQ {dict(reasons)}; "
          f"worker done in {elapsed:.0f} s")
