"""Retention as ClickHouse TTLs: which ``ALTER TABLE`` brings each table to the wanted days.

The wanted days come from the settings (``retention_days_<table>``), the current TTL from the
table's own definition, so changing a setting changes the table at the next migration and an
unchanged one costs nothing (a TTL change rewrites the table's parts in the background).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from schemas.tables import RETENTION_COLUMNS

# How ClickHouse writes back the TTL it was given: `TTL toDateTime(col) + toIntervalDay(n)`,
# in system.tables.create_table_query (one line, SETTINGS after it when there are any).
_TTL_CLAUSE = re.compile(r"\sTTL\s+(.+?)(?:\s+SETTINGS\s|$)")


def ttl_expression(column: str, days: int) -> str:
    """The TTL of ``days`` from ``column``, as ClickHouse writes it back.

    ``toDateTime``: a DateTime64 column is a TTL only in recent ClickHouse releases.
    """
    return f"toDateTime({column}) + toIntervalDay({days})"


def current_ttl(create_table_query: str) -> str | None:
    """The table's TTL expression, or None when it has none."""
    match = _TTL_CLAUSE.search(create_table_query)
    return match.group(1).strip() if match else None


def retention_statements(
    create_queries: Mapping[str, str], retention: Mapping[str, int]
) -> list[str]:
    """The ALTERs that give each table in ``retention`` (days, 0: forever) its TTL.

    ``create_queries`` maps every existing table to its ``create_table_query``.
    """
    statements = []
    for table, days in retention.items():
        have = current_ttl(create_queries[table])
        if days == 0:
            if have is not None:
                statements.append(f"ALTER TABLE {table} REMOVE TTL")
            continue
        want = ttl_expression(RETENTION_COLUMNS[table], days)
        if have is None or _normal(have) != _normal(want):
            statements.append(f"ALTER TABLE {table} MODIFY TTL {want}")
    return statements


def _normal(expression: str) -> str:
    return re.sub(r"[\s`]", "", expression)
