"""Kafka topic administration with aiokafka's admin client.

The worker's topics must exist with the configured partition count before it starts (a
topic auto-created by a producer gets the broker default, which caps the consumer group at
that many workers, and the alert-delivery agent's Faust app stops with PartitionsMismatch on
an alerts topic whose count differs from ``topic_partitions``), so the worker calls
:func:`ensure_topics` first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from streams.exceptions import ConfigError, KafkaUnavailable


@contextmanager
def quiet(logger: str) -> Iterator[None]:
    """Silence a library's logger while failures are expected and reported by the caller."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


async def _admin(bootstrap: str, request_timeout: float, **options: Any) -> AIOKafkaAdminClient:
    client = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(request_timeout * 1000), **options
    )
    await client.start()
    return client


async def list_topics(bootstrap: str, request_timeout: float = 10.0, **options: Any) -> list[str]:
    client = await _admin(bootstrap, request_timeout, **options)
    try:
        return await client.list_topics()
    finally:
        await client.close()


def list_topics_sync(bootstrap: str, request_timeout: float = 10.0, **options: Any) -> list[str]:
    return asyncio.run(
        asyncio.wait_for(list_topics(bootstrap, request_timeout, **options), request_timeout + 2)
    )


async def partition_counts(client: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    described = await client.describe_topics(names)
    return {t["topic"]: len(t["partitions"]) for t in described if not t.get("error_code")}


async def ensure_topics(
    bootstrap: str,
    partitions: dict[str, int],
    replication: int = 1,
    request_timeout: float = 15.0,
    **options: Any,
) -> None:
    """Create missing topics; fail clearly when an existing one has another partition count.

    ``partitions`` maps topic name to the count it must have (``0`` means any count is fine,
    used for topics Seismo only writes to).
    """
    try:
        with quiet("aiokafka"):
            client = await asyncio.wait_for(
                _admin(bootstrap, request_timeout, **options), request_timeout
            )
    except Exception as exc:
        raise ConfigError(
            "kafka_bootstrap_servers",
            f"cannot reach Kafka at {bootstrap} ({exc or type(exc).__name__})",
        ) from None
    try:
        existing = set(await client.list_topics())
        missing = [
            NewTopic(name, num_partitions=max(count, 1), replication_factor=replication)
            for name, count in partitions.items()
            if name not in existing
        ]
        if missing:
            try:
                await client.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another worker created it between our list and create
        counts = await partition_counts(client, list(partitions))
        for name, wanted in partitions.items():
            if wanted and counts.get(name, wanted) != wanted:
                raise ConfigError(
                    "topic_partitions",
                    f"topic {name} has {counts[name]} partitions but the worker is configured "
                    f"for {wanted}; set SEISMO_TOPIC_PARTITIONS={counts[name]}",
                )
    except ConfigError:
        raise
    except Exception as exc:
        raise KafkaUnavailable(f"creating topics on {bootstrap} failed: {exc}") from exc
    finally:
        await client.close()
