"""The DLQ takes every record: what the producer client or the broker refuses as it is goes as an
envelope, and only a broker that cannot be reached fails a publish. The broker is replaced by a
``Send`` that refuses as a real one does (the size limit, the connection), the boundary these
tests must break; the record shapes themselves are published for real in
tests/faults/test_record_shapes.py."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError

from streams.ingest.dead_letters import (
    ENVELOPE_HEADER,
    ENVELOPE_KEY,
    REASON_HEADER,
    DeadLetters,
    DeadLetterUnavailable,
)
from streams.ingest.decode import Rejected

LIMIT = 1000  # bytes the "broker" takes in one record


@dataclass
class Record:
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    topic: str = "llm.traces"
    partition: int = 0
    offset: int = 7


class Broker:
    """Refuses records over LIMIT bytes (at delivery, as the broker does), or every record
    while it is away."""

    def __init__(self, away: bool = False) -> None:
        self.away = away
        self.taken: list[tuple[bytes | None, bytes | None, dict[str, bytes]]] = []

    async def send(self, key: bytes | None, value: bytes | None, headers: list) -> Any:
        size = len(key or b"") + len(value or b"") + sum(len(n) + len(v) for n, v in headers)
        future = asyncio.get_running_loop().create_future()
        if self.away:
            future.set_exception(KafkaConnectionError("no broker"))
        elif size > LIMIT:
            future.set_exception(MessageSizeTooLargeError(f"{size} bytes"))
        else:
            self.taken.append((key, value, dict(headers)))
            future.set_result(None)
        return future


def publish(broker: Broker, record: Record) -> None:
    async def run() -> None:
        await (await DeadLetters(broker.send).publish(record, Rejected("schema", "bad")))

    asyncio.run(run())


def test_a_key_too_large_for_the_dlq_goes_as_an_envelope_with_the_original_value() -> None:
    broker = Broker()
    publish(broker, Record(key=b"k" * 2 * LIMIT, value=b"{bad", headers=(("h", b"v"),)))
    [(key, value, headers)] = broker.taken
    assert (key, value, headers[REASON_HEADER]) == (ENVELOPE_KEY, b"{bad", b"schema")
    assert b"MessageSizeTooLargeError" in headers[ENVELOPE_HEADER]


def test_a_record_with_neither_key_nor_value_goes_as_an_envelope() -> None:
    broker = Broker()
    publish(broker, Record(key=None, value=None))
    [(key, value, headers)] = broker.taken
    assert (key, value) == (ENVELOPE_KEY, b"")
    assert b"null key and null value" in headers[ENVELOPE_HEADER]


def test_a_broker_away_fails_the_publish_as_unavailable_never_as_a_bad_record() -> None:
    with pytest.raises(DeadLetterUnavailable):
        publish(Broker(away=True), Record(key=b"k", value=b"{bad"))
