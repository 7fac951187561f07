"""Consumer lag of the worker's group on its event topics, as the broker sees it.

Lag per partition is the end offset minus the group's committed offset, the figure
``kafka-consumer-groups --describe`` prints. The worker commits an offset only after the
records before it are written, so lag zero on every event-topic partition means nothing
published is waiting to be stored: only then is a key's silence real silence (see
:mod:`streams.windows.clock`). Measured with the broker's own offsets rather than the consumer's
in-memory positions, so it does not depend on which client library consumes.

A partition the group never committed counts from its first offset. A producer using
transactions leaves a commit marker after its last record, which no consumer commits past;
on such a partition lag stays at one, and idle closing waits for the next event instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streams.kafka.admin import partition_counts, quiet

log = logging.getLogger(__name__)

Lag = dict[tuple[str, int], int]


class ConsumerLag:
    """Measures a consumer group's lag; clients connect on first use and reconnect after a
    failure, so a broker that is away makes :meth:`measure` return ``None``, not raise."""

    def __init__(
        self, bootstrap: str, group: str, topics: Sequence[str], request_timeout: float = 10.0,
        **client_options: Any,
    ) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self.topics = tuple(topics)
        self.timeout = request_timeout
        self.options = client_options
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets: AIOKafkaConsumer | None = None  # no group: only reads offsets
        # The group's position per partition at the last reading (its committed offset, or the
        # partition's first when it never committed): what the progress watch compares.
        self.committed: dict[tuple[str, int], int] = {}

    async def measure(self) -> Lag | None:
        """Lag per (topic, partition), or None when the broker could not be asked."""
        try:
            with quiet("aiokafka"):
                return await asyncio.wait_for(self._measure(), self.timeout)
        except Exception as exc:  # a broker away is expected here, and retried next tick
            log.debug("consumer lag unavailable: %s", exc)
            await self.close()
            return None

    async def _measure(self) -> Lag:
        admin, offsets = await self._clients()
        counts = await partition_counts(admin, list(self.topics))  # each tick: new partitions
        partitions = [TopicPartition(t, p) for t in self.topics for p in range(counts.get(t, 0))]
        if not partitions:
            raise LookupError(f"no partitions known for {self.topics}")
        ends = await offsets.end_offsets(partitions)
        starts = await offsets.beginning_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(self.group, partitions=partitions)
        lag: Lag = {}
        positions = {}
        for tp in partitions:
            done = committed.get(tp)
            position = done.offset if done is not None and done.offset >= 0 else starts[tp]
            positions[(tp.topic, tp.partition)] = position
            lag[(tp.topic, tp.partition)] = max(0, ends[tp] - position)
        self.committed = positions
        return lag

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._offsets is None:
            timeout_ms = int(self.timeout * 1000)
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self.bootstrap, request_timeout_ms=timeout_ms, **self.options
            )
            offsets = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                request_timeout_ms=timeout_ms, **self.options,
            )
            self._admin, self._offsets = admin, offsets
            await admin.start()
            await offsets.start()
        return self._admin, self._offsets

    async def close(self) -> None:
        admin, offsets, self._admin, self._offsets = self._admin, self._offsets, None, None
        closers = [offsets.stop if offsets else None, admin.close if admin else None]
        for close in filter(None, closers):
            try:
                await close()
            except Exception:  # closing a half-started client after a failure
                log.debug("closing a Kafka client failed", exc_info=True)
