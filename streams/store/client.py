"""ClickHouse access through clickhouse-connect: the embedded engine (``chdb://dir``) or a server.

The same SQL serves both. The embedded engine has no async client and one process per data
directory, so every call goes through one worker thread: the event loop never blocks on
ClickHouse, and the engine is never entered from two threads at once.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from streams.exceptions import ConfigError
from streams.store.native import NativeBlock
from streams.store.retention import retention_statements

_STATEMENT_END = re.compile(r";\s*$", re.MULTILINE)
# Tables are partitioned by month: a batch of events spread over more than 100 months (a
# backfill, a broken producer clock) would otherwise be refused for good, and the worker would
# retry it forever.
_INSERT_SETTINGS = {"max_partitions_per_insert_block": 0}
_MUTATION_SETTINGS = {"mutations_sync": 2}


def migration_files() -> list[tuple[str, str]]:
    """The ordered DDL files shipped in ``schemas/clickhouse``: (name, sql)."""
    folder = resources.files("schemas") / "clickhouse"
    files = sorted((f.name, f.read_text()) for f in folder.iterdir() if f.name.endswith(".sql"))
    return files


def split_statements(sql: str) -> list[str]:
    without_comments = "\n".join(
        line for line in sql.splitlines() if not line.lstrip().startswith("--")
    )
    return [s.strip() for s in _STATEMENT_END.split(without_comments) if s.strip()]


class ClickHouseStore:
    """One connection to the Seismo database; blocking calls plus ``a*`` coroutines."""

    def __init__(self, url: str, database: str = "seismo") -> None:
        self.url = url
        self.database = database
        self._client: Any = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clickhouse")
        # The window job queries from its own thread while batches are inserted: one call
        # inside the engine at a time.
        self._lock = threading.RLock()

    # -- connecting --------------------------------------------------------------------------
    def _connect(self) -> Any:
        import clickhouse_connect

        parsed = urlparse(self.url)
        try:
            if parsed.scheme == "chdb":
                # chdb://relative/dir would read "relative" as a host: always pass a full path.
                directory = Path(parsed.netloc + parsed.path).resolve()
                directory.mkdir(parents=True, exist_ok=True)
                dsn = f"chdb://{directory}"
                bootstrap = clickhouse_connect.get_client(dsn=dsn)
                bootstrap.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
                return clickhouse_connect.get_client(dsn=dsn, database=self.database)
            bootstrap = clickhouse_connect.get_client(dsn=self.url)
            bootstrap.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
            bootstrap.close()
            return clickhouse_connect.get_client(dsn=self.url, database=self.database)
        except Exception as exc:
            text = str(exc)
            if "Cannot lock file" in text:
                raise ConfigError(
                    "clickhouse_url",
                    f"the embedded store {parsed.netloc}{parsed.path} is held by another process "
                    "(a running worker?); read through its API or stop it",
                ) from None
            raise ConfigError(
                "clickhouse_url", f"cannot open {_safe_url(self.url)}: {text.splitlines()[0]}"
            ) from None

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def migrate(self, retention: Mapping[str, int] | None = None) -> list[str]:
        """Apply every DDL file in order (each statement is idempotent: IF NOT EXISTS), then the
        retention: days per table, 0 keeps forever (streams.store.retention); None leaves the
        tables'
        TTLs as they are, for the processes that only read or pin."""
        applied = []
        for name, sql in migration_files():
            for statement in split_statements(sql):
                self.client.command(statement)
            applied.append(name)
        if retention:
            _, rows = self.query(
                "SELECT name, create_table_query FROM system.tables "
                "WHERE database = currentDatabase()"
            )
            for statement in retention_statements(dict(rows), retention):
                self.command(statement)
                applied.append(statement)
        return applied

    # -- blocking calls ------------------------------------------------------------------------
    def insert_columns(
        self, table: str, columns: Sequence[Sequence[Any]], column_names: Sequence[str]
    ) -> None:
        with self._lock:
            self.client.insert(
                table, list(columns), column_names=list(column_names), column_oriented=True,
                settings=_INSERT_SETTINGS,
            )

    def insert_native(self, table: str, block: NativeBlock, column_names: Sequence[str]) -> None:
        """Insert rows already encoded (:mod:`streams.store.native`)."""
        with self._lock:
            self.client.raw_insert(table, list(column_names), block.data, fmt="Native",
                                   settings=_INSERT_SETTINGS)

    def query(
        self, sql: str, parameters: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> tuple[list[str], list]:
        with self._lock:
            try:
                result = self.client.query(sql, parameters=parameters, settings=settings)
            except Exception:
                self._discard_partial_result()
                raise
        return list(result.column_names), [list(r) for r in result.result_rows]

    def _discard_partial_result(self) -> None:
        """After a query the embedded engine stopped midway (a limit, a timeout), the blocks
        it had already produced stay in its output and lead the next query's answer, which
        then fails to decode (chdb 26.9): one throw-away query takes them."""
        if urlparse(self.url).scheme != "chdb":
            return
        try:
            self.client.query("SELECT 1")
        except Exception:  # the leftovers, consumed
            pass


    def command(self, sql: str) -> Any:
        with self._lock:
            return self.client.command(sql)

    def mutate(self, sql: str, parameters: dict[str, Any] | None = None) -> None:
        """An ``ALTER TABLE … DELETE``, returned from once every part is rewritten without the
        rows (``mutations_sync=2``), not merely queued."""
        with self._lock:
            self.client.command(sql, parameters=parameters, settings=_MUTATION_SETTINGS)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._executor.shutdown(wait=True)

    # -- off the event loop --------------------------------------------------------------------
    async def run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)


def _safe_url(url: str) -> str:
    """The URL without a password, for messages and logs."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url
