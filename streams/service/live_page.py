"""The pages a person opens on the worker: ``GET /`` (the live page) and ``GET /report``
(the HTML report of one app, the renderer of ``seismo report``).

Both read scope, with the token from the bearer header or the browser cookie (see
:data:`streams.service.web_api.TOKEN_COOKIE`), and read through the same guarded, limited
queries as ``POST /api/query``. The page's queries and the report's clustering run in a
thread, each query handed to the store's executor, so a slow page never holds the event loop
that ingests; one report is built at a time.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from streams.exceptions import ConfigError
from streams.metrics import Metrics
from streams.report.live import Pipeline, render_live
from streams.report.monitoring import key_views
from streams.service.web_api import ApiCall, ApiError, PlainText, WebApi
from streams.settings import Settings
from streams.store.client import ClickHouseStore
from streams.store.query_guard import ApiQueries, QueryRefused

HTML = "text/html"  # aiohttp adds the charset (utf-8)
LIVE_MINUTES = 360  # what the live page looks back over
LIVE_WINDOWS = 24  # squares per key
MAX_REPORT_SPAN = timedelta(days=7)


class _GuardedReader:
    """A report Reader for code running in a thread: every query goes through the guard, in
    the store's executor, scheduled on the worker's loop."""

    def __init__(self, store: ClickHouseStore, queries: ApiQueries,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.store, self.queries, self.loop = store, queries, loop

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> tuple[list, list]:
        future = asyncio.run_coroutine_threadsafe(
            self.store.run(self.queries.run, sql, parameters), self.loop)
        return future.result(timeout=120)


def add_live_page(api: WebApi, settings: Settings, store: ClickHouseStore,
                  queries: ApiQueries, metrics: Metrics) -> None:
    building = asyncio.Lock()

    def reader() -> _GuardedReader:
        return _GuardedReader(store, queries, asyncio.get_running_loop())

    @api.route("GET", "/", scope="read", browser=True)
    async def live(call: ApiCall) -> PlainText:
        source = reader()
        try:
            views = await asyncio.to_thread(key_views, source, LIVE_MINUTES, LIVE_WINDOWS)
        except QueryRefused as exc:
            raise ApiError(503, f"the store refused the page's query: {exc}") from None
        pipeline = Pipeline(sum(metrics.gauges("seismo_consumer_lag")),
                            metrics.by_label("seismo_dlq_total", "reason"),
                            settings.window_seconds)
        return PlainText(render_live(views, pipeline, datetime.now(UTC)), HTML)

    @api.route("GET", "/report", scope="read", browser=True)
    async def report(call: ApiCall) -> PlainText:
        from streams.report import build_report, parse_time

        query = call.request.query
        app = query.get("app")
        if not app:
            raise ApiError(400, "the report needs ?app=<app>")
        now = datetime.now(UTC)
        try:
            start = parse_time(query.get("since", "6h"), now, "since")
            end = parse_time(query["until"], now, "until") if query.get("until") else now
        except ConfigError as exc:
            raise ApiError(400, str(exc)) from None
        if not timedelta(0) < end - start <= MAX_REPORT_SPAN:
            raise ApiError(400, "since must be before until and at most 7 days before it")
        if building.locked():
            raise ApiError(429, "a report is being built; try again in a minute")
        async with building:
            source = reader()
            try:
                html, _, _ = await asyncio.to_thread(
                    build_report, source, app, start, end, settings=settings, use_umap=False)
            except QueryRefused as exc:
                raise ApiError(503, f"the store refused the report's query: {exc}") from None
        return PlainText(html, HTML)
