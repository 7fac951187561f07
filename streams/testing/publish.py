"""Publish trace events to Kafka with aiokafka, keyed ``app/model`` as the contract asks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaProducer

from streams.testing.generator import to_json_line


def stream_key(event: dict[str, Any]) -> bytes:
    """The Kafka record key of an event: ``app/model``, as the contract asks.

    Every prompt version of a model shares it, so all of a stream key's events go to one
    partition and one worker sees its whole window; it is spelled as
    :meth:`streams.windows.clock.StreamKey.label` spells a key without a prompt version.
    """
    return f"{event['app']}/{event['model']}".encode()


async def publish(
    events: Iterable[dict[str, Any]],
    bootstrap: str,
    topic: str,
    rate: float = 0.0,
    on_sent: Callable[[int], None] | None = None,
    **client_options: Any,
) -> int:
    """Send every event; ``rate`` > 0 paces sends to that many per second. Returns the count."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
        **client_options,
    )
    await producer.start()
    sent = 0
    started = time.monotonic()
    try:
        pending = []
        for event in events:
            pending.append(await producer.send(topic, to_json_line(event), key=stream_key(event)))
            sent += 1
            if rate > 0:
                ahead = sent / rate - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
                if on_sent:
                    on_sent(sent)
        await asyncio.gather(*pending)
        if on_sent:
            on_sent(sent)
    finally:
        await producer.stop()
    return sent
