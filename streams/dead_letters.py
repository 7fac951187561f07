"""The dead-letter queue: rejected records with their original bytes and the reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from streams.decode import Rejected
from streams.records import Record

REASON_HEADER = "seismo.reason"
DETAIL_HEADER = "seismo.detail"
# Where the record came from, so it can be replayed after a fix.
ORIGIN_HEADERS = ("seismo.topic", "seismo.partition", "seismo.offset")
MAX_DETAIL = 500

# (key, value, headers) -> an awaitable that completes when the broker has the record.
Send = Callable[[bytes | None, bytes | None, list[tuple[str, bytes]]], Awaitable[Any]]


def dlq_headers(record: Record, rejected: Rejected) -> list[tuple[str, bytes]]:
    topic, partition, offset = ORIGIN_HEADERS
    return [
        *record.headers,
        (REASON_HEADER, rejected.reason.encode()),
        (DETAIL_HEADER, rejected.detail[:MAX_DETAIL].encode("utf-8", "replace")),
        (topic, record.topic.encode()),
        (partition, str(record.partition).encode()),
        (offset, str(record.offset).encode()),
    ]


class DeadLetters:
    """Publishes rejected records; ``scrub`` applies the redaction policy to their bytes."""

    def __init__(self, send: Send, scrub: Callable[[bytes], bytes] | None = None) -> None:
        self._send = send
        self._scrub = scrub or (lambda raw: raw)
        self.count = 0

    async def publish(self, record: Record, rejected: Rejected) -> Awaitable[Any]:
        """Queue the record; returns the delivery awaitable (await it before committing)."""
        self.count += 1
        value = self._scrub(record.value) if record.value else record.value
        return await self._send(record.key, value, dlq_headers(record, rejected))
