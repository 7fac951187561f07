"""The dead-letter queue: rejected records with their original bytes and the reason.

The DLQ takes every record Kafka can carry. A record is first sent as it came (value scrubbed
under the redaction policy, its own headers scrubbed, the ``seismo.*`` headers added); when
that cannot be sent — a null key and a null value (which a producer client refuses), a key or
headers too large for the DLQ's record size, a header the client refuses — it is sent as an
*envelope*: the placeholder key :data:`ENVELOPE_KEY`, the original value (or, when it had none,
the original key) as the value, only the ``seismo.*`` headers, and ``seismo.envelope`` saying
what was changed. Only a broker that cannot be reached fails a publish
(:class:`DeadLetterUnavailable`): that is waited out like a ClickHouse outage, never taken for
a bad record.

Credentials never reach the DLQ: a record's header whose name says it holds one
(``authorization``, ``x-api-key``, ``cookie``, ...) is replaced by :data:`REDACTED` whatever
the policy, since no policy wants a caller's bearer token forwarded; the other header values
and the ``seismo.detail`` text (which quotes the offending input) go through the policy's scrub.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka.errors import KafkaError

from streams.exceptions import SeismoError
from streams.ingest.decode import Rejected
from streams.kafka.records import Record

log = logging.getLogger(__name__)

REASON_HEADER = "seismo.reason"
DETAIL_HEADER = "seismo.detail"
ENVELOPE_HEADER = "seismo.envelope"
# Where the record came from, so it can be replayed after a fix.
ORIGIN_HEADERS = ("seismo.topic", "seismo.partition", "seismo.offset")
MAX_DETAIL = 500
ENVELOPE_KEY = b"seismo.envelope"
REDACTED = b"<REDACTED>"
# Header names that carry a credential, as HTTP and gateway conventions spell them
# (matched case-insensitively, "-" and "_" alike, anywhere in the name).
CREDENTIAL_HEADER = re.compile(
    r"authori[sz]ation|cookie|api[-_]?key|token|secret|passw(or)?d|credential|session",
    re.IGNORECASE,
)

# (key, value, headers) -> an awaitable that completes when the broker has the record.
Send = Callable[[bytes | None, bytes | None, list[tuple[str, bytes]]], Awaitable[Any]]
Scrub = Callable[[bytes], bytes]


class DeadLetterUnavailable(SeismoError):
    """The DLQ's broker could not take a record (retriable: the batch waits, it is not bad)."""


def _unavailable(exc: BaseException) -> bool:
    """A broker that is away or slow, as opposed to a record the broker or client refuses."""
    return isinstance(exc, KafkaError) and exc.retriable or isinstance(exc, ConnectionError)


def seismo_headers(record: Record, rejected: Rejected, scrub: Scrub) -> list[tuple[str, bytes]]:
    """The DLQ's own headers: why (the detail scrubbed: it may quote the input) and where."""
    topic, partition, offset = ORIGIN_HEADERS
    detail = scrub(rejected.detail.encode("utf-8", "replace"))[:MAX_DETAIL]
    return [
        (REASON_HEADER, rejected.reason.encode()),
        (DETAIL_HEADER, detail),
        (topic, record.topic.encode()),
        (partition, str(record.partition).encode()),
        (offset, str(record.offset).encode()),
    ]


def passed_headers(record: Record, scrub: Scrub) -> list[tuple[str, bytes]]:
    """The record's own headers as the DLQ carries them: credentials replaced, values scrubbed,
    and none posing as Seismo's own (a producer cannot plant a ``seismo.reason``)."""
    passed = []
    for name, value in record.headers or ():
        if name.lower().startswith("seismo."):
            continue
        if CREDENTIAL_HEADER.search(name):
            passed.append((name, REDACTED))
        else:
            passed.append((name, scrub(value) if value else value))
    return passed


def dlq_headers(record: Record, rejected: Rejected,
                scrub: Scrub = lambda raw: raw) -> list[tuple[str, bytes]]:
    return [*passed_headers(record, scrub), *seismo_headers(record, rejected, scrub)]


class DeadLetters:
    """Publishes rejected records; ``scrub`` applies the redaction policy to their bytes."""

    def __init__(self, send: Send, scrub: Scrub | None = None) -> None:
        self._send = send
        self._scrub = scrub or (lambda raw: raw)
        self.count = 0
        self.envelopes = 0

    async def publish(self, record: Record, rejected: Rejected) -> Awaitable[Any]:
        """Queue the record; returns the delivery awaitable (await it before committing).
        Raises, or the awaitable does, only :class:`DeadLetterUnavailable`."""
        self.count += 1
        value = self._scrub(record.value) if record.value else record.value
        if record.key is None and value is None:  # no client sends this: straight to envelope
            return self._envelope(record, rejected, value, "null key and null value")
        try:
            delivery = await self._send(record.key, value, dlq_headers(record, rejected,
                                                                       self._scrub))
        except Exception as exc:
            return self._refused(exc, record, rejected, value)
        return self._confirmed(delivery, record, rejected, value)

    async def _confirmed(self, delivery: Awaitable[Any], record: Record, rejected: Rejected,
                         value: bytes | None) -> Any:
        try:
            return await delivery
        except Exception as exc:  # the broker refused it: too large for the topic, say
            return await self._refused(exc, record, rejected, value)

    async def _refused(self, exc: Exception, record: Record, rejected: Rejected,
                       value: bytes | None) -> Any:
        if _unavailable(exc):
            raise DeadLetterUnavailable(f"the DLQ cannot be reached: {exc!r}") from exc
        return await self._envelope(record, rejected, value, one_line(exc))

    async def _envelope(self, record: Record, rejected: Rejected, value: bytes | None,
                        why: str) -> Any:
        """What is left when the record cannot go as it is: a placeholder key, the original
        bytes as the value (the key's when there was no value), only Seismo's headers."""
        self.envelopes += 1
        carried = "value"
        if not value:
            value, carried = (record.key or b""), ("key" if record.key else "nothing")
        headers = [*seismo_headers(record, rejected, self._scrub),
                   (ENVELOPE_HEADER, f"{why}; the value carries the record's {carried}; "
                                     f"key {_size(record.key)}, value {_size(record.value)}, "
                                     f"{len(record.headers or ())} headers dropped".encode())]
        log.warning("DLQ: %s:%d@%d sent as an envelope (%s)", record.topic, record.partition,
                    record.offset, why)
        try:
            return await (await self._send(ENVELOPE_KEY, value, headers))
        except Exception as exc:
            if _unavailable(exc):
                raise DeadLetterUnavailable(f"the DLQ cannot be reached: {exc!r}") from exc
            # Still refused (a value at the very limit of the record size): the DLQ keeps the
            # reason and origin, so the record can be found in its own topic and replayed.
            return await (await self._send(ENVELOPE_KEY, b"", [
                *headers[:-1], (ENVELOPE_HEADER, f"{why}; {one_line(exc)}; the record's "
                                                 "bytes are only in its own topic".encode())]))


def _size(raw: bytes | None) -> str:
    return "null" if raw is None else f"{len(raw)} bytes"


def one_line(exc: BaseException) -> str:
    """An exception as one short line: its type and message (the last line of a traceback
    carried as the message, where the error is)."""
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    text = lines[-1] if lines[0].startswith("Traceback") else lines[0]
    return f"{type(exc).__name__}: {text.strip()[:200]}"
