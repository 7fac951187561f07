"""Runs window closing beside ingestion: watches written events, closes due windows.

Closing a window (ClickHouse queries, embedding, permutation tests) runs on its own thread,
so the agents keep consuming while it works; the store serialises the engine calls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from schemas.events import to_datetime
from streams.heap import release_free_heap
from streams.metrics import Metrics
from streams.store.client import ClickHouseStore
from streams.windows.clock import StreamKey, WindowClock
from streams.windows.closed import ClosedWindow
from streams.windows.job import WindowJob

log = logging.getLogger(__name__)

OnOutcome = Callable[[ClosedWindow], Awaitable[None]]


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

    def observe(self, stream_times: Iterable[tuple[str, str, str, datetime]]) -> None:
        """Advance the clock by stored events' ``(app, model, prompt_version, timestamp)``
        (:attr:`streams.ingest.prepare.Prepared.stream_times`), a batch at a time."""
        times: dict[tuple[str, str, str], list[datetime]] = {}
        for app, model, version, timestamp in stream_times:
            key = (app, model, version if self.split else "")
            times.setdefault(key, []).append(timestamp)
        for key, key_times in times.items():
            self.clock.observe_many(StreamKey(*key), key_times)

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
