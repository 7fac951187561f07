"""Rows to ClickHouse's Native format, in the process that built them.

An ingest process used to hand the worker its rows as pickled tuples, which the worker
unpickled and clickhouse-connect then serialised to Native bytes on the insert thread: three
passes over every value, two of them in the worker, whose event loop and insert thread are the
one part of the ingest path that does not run in parallel. Encoded where the rows are made,
they cross the socket as one bytes object and go to ClickHouse as they are
(:meth:`streams.store.client.ClickHouseStore.insert_native`).

The encoding is clickhouse-connect's own (each column type's ``write_column``, as its
``NativeTransform`` does for an insert), so values are written exactly as ``client.insert``
would write them. Blocks concatenate: Native input is a sequence of blocks, so the parts of a
batch prepared by several processes are joined as bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any


@dataclass(frozen=True, slots=True)
class NativeBlock:
    """Rows encoded as Native bytes (one block or several in a row), and how many rows."""

    data: bytes = b""
    rows: int = 0

    @staticmethod
    def join(blocks: Iterable[NativeBlock]) -> NativeBlock:
        blocks = [b for b in blocks if b.rows]
        if len(blocks) == 1:
            return blocks[0]
        return NativeBlock(b"".join(b.data for b in blocks), sum(b.rows for b in blocks))


class NativeEncoder:
    """Encodes rows (tuples in ``schema`` order) as one Native block.

    ``schema`` is ``(column name, ClickHouse type name)`` pairs, e.g.
    :data:`schemas.tables.EVENT_SCHEMA`. The types are resolved on first use, so an encoder
    pickles as its schema alone.
    """

    def __init__(self, schema: Sequence[tuple[str, str]]) -> None:
        self.schema = tuple(schema)
        self.columns = tuple(name for name, _ in self.schema)

    def __getstate__(self) -> tuple[tuple[str, str], ...]:
        return self.schema

    def __setstate__(self, schema: tuple[tuple[str, str], ...]) -> None:
        self.__init__(schema)  # type: ignore[misc]

    @cached_property
    def _types(self) -> list[Any]:
        from clickhouse_connect.datatypes.registry import get_from_name

        return [get_from_name(type_name) for _, type_name in self.schema]

    def encode(self, rows: Sequence[tuple[Any, ...]]) -> NativeBlock:
        """One block holding ``rows`` (no bytes for no rows)."""
        if not rows:
            return NativeBlock()
        from clickhouse_connect.driver.common import write_leb128
        from clickhouse_connect.driver.insert import InsertContext

        types = self._types
        # The context carries the per-column write settings the types consult; no data in it.
        context = InsertContext("", list(self.columns), types)
        out = bytearray()
        write_leb128(len(types), out)
        write_leb128(len(rows), out)
        for name, column_type, values in zip(self.columns, types, zip(*rows, strict=True),
                                             strict=True):
            for text in (name, column_type.insert_name):
                encoded = text.encode()
                write_leb128(len(encoded), out)
                out += encoded
            context.start_column(name)
            column_type.write_column(values, out, context)
        return NativeBlock(bytes(out), len(rows))
