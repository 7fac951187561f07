"""Batched writes to ClickHouse with retries: a sink is ``add()`` + ``flush()``.

A failed flush keeps its rows and raises :class:`SinkUnavailable` with ``retry_after``; the
caller (which holds the Kafka offsets) waits and flushes again, and takes no new records
meanwhile. That is the backpressure: memory stays bounded by one batch per table.

The one exception is ClickHouse refusing the rows themselves (a value it cannot parse): waiting
would stall the stream for good, so the rows are dropped and :class:`RowsRefused` raised, and
the pipeline isolates the record that causes it. Only the error names listed below count as
that; anything else (a server away, out of memory or disk, a missing table) is waited out, so
an outage never sends events to the DLQ.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from streams.exceptions import RowsRefused, SinkUnavailable
from streams.store.client import ClickHouseStore
from streams.store.native import NativeBlock

log = logging.getLogger(__name__)

# ClickHouse's names of errors about the data of an insert, which no retry can mend.
CONTENT_ERRORS = frozenset({
    "ATTEMPT_TO_READ_AFTER_EOF", "CANNOT_READ_ALL_DATA", "CANNOT_PARSE_TEXT",
    "CANNOT_PARSE_INPUT_ASSERTION_FAILED", "CANNOT_PARSE_DATE", "CANNOT_PARSE_DATETIME",
    "CANNOT_PARSE_NUMBER", "CANNOT_PARSE_UUID", "CANNOT_PARSE_BOOL", "CANNOT_PARSE_IPV4",
    "CANNOT_PARSE_IPV6", "CANNOT_PARSE_ESCAPE_SEQUENCE", "TYPE_MISMATCH", "INCORRECT_DATA",
    "TOO_LARGE_STRING_SIZE", "TOO_LARGE_ARRAY_SIZE", "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
    "ARGUMENT_OUT_OF_BOUND", "DECIMAL_OVERFLOW", "SIZES_OF_ARRAYS_DONT_MATCH",
    "CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN", "INCORRECT_NUMBER_OF_COLUMNS",
    "UNKNOWN_FORMAT_VERSION", "CANNOT_CONVERT_TYPE", "ILLEGAL_COLUMN",
})
# Both the server and the embedded engine end the message with the error's name: "(NAME)".
_ERROR_NAME = re.compile(r"\(([A-Z][A-Z0-9_]+)\)")


def refuses_content(exc: BaseException) -> bool:
    """Whether ClickHouse refused an insert for the rows' content (see CONTENT_ERRORS)."""
    return any(name in CONTENT_ERRORS for name in _ERROR_NAME.findall(str(exc)))


class ClickHouseSink:
    """Rows for one table, as Native blocks (:mod:`streams.store.native`), flushed in one insert."""

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
            if refuses_content(exc):
                # The pipeline prepares the batch again (or its halves) and adds it anew.
                self._blocks = []
                self._failures = 0
                raise RowsRefused(f"insert into {self.table} refused: {exc}") from exc
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
