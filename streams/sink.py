"""Batched writes to ClickHouse with retries: a sink is ``add()`` + ``flush()``.

A failed flush keeps its rows and raises :class:`SinkUnavailable` with ``retry_after``; the
caller (which holds the Kafka offsets) waits and flushes again, and takes no new records
meanwhile. That is the backpressure: memory stays bounded by one batch per table.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from streams.exceptions import SinkUnavailable
from streams.native import NativeBlock
from streams.store import ClickHouseStore

log = logging.getLogger(__name__)


class ClickHouseSink:
    """Rows for one table, as Native blocks (:mod:`streams.native`), flushed in one insert."""

    def __init__(
        self,
        store: ClickHouseStore,
        table: str,
        columns: Sequence[str],
        min_backoff: float = 0.5,
        max_backoff: float = 10.0,
    ) -> None:
        self.store = store
        self.table = table
        self.columns = tuple(columns)
        self._blocks: list[NativeBlock] = []
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._failures = 0

    def __len__(self) -> int:
        return sum(b.rows for b in self._blocks)

    def add(self, block: NativeBlock) -> None:
        """Rows encoded in this sink's column order."""
        if block.rows:
            self._blocks.append(block)

    async def flush(self) -> int:
        """Write every pending row; returns how many. Raises SinkUnavailable on failure."""
        if not self._blocks:
            return 0
        block = NativeBlock.join(self._blocks)
        rows = block.rows
        try:
            await self.store.run(self.store.insert_native, self.table, block, self.columns)
        except Exception as exc:
            self._failures += 1
            retry_after = min(self._max_backoff, self._min_backoff * 2 ** (self._failures - 1))
            log.warning(
                "insert into %s failed (%d rows, attempt %d), retrying in %.1fs: %s",
                self.table,
                rows,
                self._failures,
                retry_after,
                exc,
            )
            raise SinkUnavailable(f"insert into {self.table} failed: {exc}", retry_after) from exc
        self._failures = 0
        self._blocks = []
        return rows
