"""Runs window closing beside ingestion: watches written events, closes due windows.

Closing a window (ClickHouse queries, embedding, permutation tests) runs on its own thread,
so the agents keep consuming while it works; the store serialises the engine calls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from schemas.events import to_datetime
from schemas.tables import EVENT_COLUMNS
from streams.heap import release_free_heap
from streams.metrics import Metrics
from streams.store import ClickHouseStore
from streams.window_job import ClosedWindow, WindowJob
from streams.windows import StreamKey, WindowClock

log = logging.getLogger(__name__)

OnOutcome = Callable[[ClosedWindow], Awaitable[None]]
# Where observe() finds the stream key and event time in a row.
_TIME, _APP, _MODEL, _VERSION = (
    EVENT_COLUMNS.index(c) for c in ("timestamp", "app", "model", "prompt_version")
)



class WindowService:
    def __init__(
        self, store: ClickHouseStore, clock: WindowClock, job: WindowJob, metrics: Metrics,
        split_by_prompt_version: bool, on_outcome: OnOutcome | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.job = job
        self.metrics = metrics
        self.split = split_by_prompt_version
        self.on_outcome = on_outcome
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="windows")
        self._busy = asyncio.Lock()

    def observe(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Advance the clock by stored event rows (``EVENT_COLUMNS`` order): what the ingest
        pipeline has, whether it prepared them itself or an ingest process did."""
        for row in rows:
            version = row[_VERSION] if self.split else ""
            self.clock.observe(StreamKey(row[_APP], row[_MODEL], version), row[_TIME])

    def restore(self) -> None:
        """Rebuild the clock from storage: latest event and latest closed window per key."""
        version = "prompt_version" if self.split else "''"
        length = int(self.clock.spec.length.total_seconds())
        _, closed_rows = self.store.query(
            f"SELECT app, model, {version} AS v, max(window_start) FROM window_metrics FINAL "
            "GROUP BY app, model, v"
        )
        closed = {StreamKey(a, m, v): to_datetime(t) for a, m, v, t in closed_rows}
        _, rows = self.store.query(
            f"SELECT app, model, {version} AS v, max(timestamp), "
            f"groupUniqArray(toStartOfInterval(timestamp, toIntervalSecond({length}))) "
            "FROM events FINAL GROUP BY app, model, v"
        )
        for app, model, v, latest, starts in rows:
            key = StreamKey(app, model, v)
            open_starts = {to_datetime(s) for s in starts}
            self.clock.restore(key, to_datetime(latest), closed.get(key), open_starts)

    async def tick(self, caught_up: bool) -> int:
        """Close every due window; returns how many closed. ``caught_up``: whether every
        record published to the event topics is written (see :class:`WindowClock`)."""
        self.clock.caught_up(caught_up)
        if self._busy.locked():
            return 0
        async with self._busy:
            done = 0
            loop = asyncio.get_running_loop()
            for key, start in self.clock.due():
                # Compute, alert, then store: a crash anywhere recomputes the same window,
                # which gives the same rows and the same transition ids.
                try:
                    outcome = await loop.run_in_executor(self._executor, self.job.close, key, start)
                    if self.on_outcome is not None:
                        await self.on_outcome(outcome)
                    await loop.run_in_executor(self._executor, self.job.write, outcome)
                except Exception:
                    log.exception("closing window %s of %s failed; retrying next tick", start, key)
                    self.metrics.inc("seismo_window_failures_total")
                    return done
                self.clock.closed(key, start)
                self.metrics.inc("seismo_windows_closed_total")
                done += 1
            if done:
                await loop.run_in_executor(self._executor, release_free_heap)
            return done
