"""Scratch tables in an embedded store, for tests that compare what two ways of writing store."""

from __future__ import annotations

import uuid

from streams.store.client import ClickHouseStore


def copy_of(store: ClickHouseStore, table: str) -> str:
    """An empty table shaped like ``table``, for one test's rows alone."""
    name = f"{table}_{uuid.uuid4().hex[:8]}"
    store.command(f"CREATE TABLE {name} AS {table}")
    return name


def contents(store: ClickHouseStore, table: str) -> bytes:
    """Every row and column of ``table`` as ClickHouse prints it, in a fixed order."""
    return store.client.raw_query(f"SELECT * FROM {table} ORDER BY event_id FORMAT TSV")
