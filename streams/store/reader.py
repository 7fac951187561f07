"""Read the store from another process: through a running worker's API, else directly.

The embedded engine allows one process per data directory, so while a worker holds it the
CLI and reports ask the worker (``POST /api/query``); with no worker up they open it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from streams.api_tokens import client_token
from streams.settings import Settings
from streams.store.client import ClickHouseStore
from streams.store.query_guard import ApiQueries


class WorkerAPIError(RuntimeError):
    """The worker answered, but refused the query."""


def query_worker(
    base_url: str, sql: str, parameters: dict[str, Any] | None = None, timeout: float = 30.0,
    token: str = "",
) -> tuple[list[str], list[list[Any]]]:
    body = json.dumps({"sql": sql, "parameters": parameters or {}}).encode()
    request = urllib.request.Request(
        base_url.rstrip("/") + "/api/query",
        data=body,
        headers={"Content-Type": "application/json", **bearer(token)},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise WorkerAPIError(json.loads(exc.read()).get("error", str(exc))) from None
    return payload["columns"], payload["rows"]


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token`` (none for "")."""
    return {"Authorization": f"Bearer {token}"} if token else {}


class StoreReader:
    """Read-only queries against whichever way to the store is open."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base_url = f"http://{settings.web_host}:{settings.web_port}"
        self._store: ClickHouseStore | None = None
        self._queries: ApiQueries | None = None

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> tuple[list[str], list]:
        if self._store is None:
            try:
                return query_worker(self.base_url, sql, parameters,
                                    token=client_token(self.settings))
            except (urllib.error.URLError, ConnectionError):
                self._store = ClickHouseStore(
                    self.settings.clickhouse_url, self.settings.clickhouse_database
                )
                self._store.migrate()
            # The same checks and limits as the worker's API: one way to read, not two.
            self._queries = ApiQueries.from_settings(self._store, self.settings)
        assert self._queries is not None
        return self._queries.run(sql, parameters)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
