"""Event-time tumbling windows per stream key, and when each may close.

A window [start, end) of a stream key closes once the key's watermark (the latest event time
seen, minus the allowed lateness) has passed its end — or, when the key goes quiet, once no
event arrived for ``idle_close_seconds`` of wall-clock time, so the last window of a stream
that stops is not left open forever. Records later than that still land in ``events`` but
no longer change a closed window's result.

Silence counts only while the worker is caught up (consumer lag zero, :mod:`streams.kafka.lag`):
when it is the worker that stopped taking records (ClickHouse refusing writes, a broker away,
a restart waiting for its partitions), the events of the open windows are still in Kafka, and
closing those windows on what was written so far would leave them out of every result.

The state here is small and rebuilt from ClickHouse on start (latest event time and latest
closed window per key), which is what makes a restart neither lose nor repeat a window.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True, slots=True, order=True)
class StreamKey:
    """One stream: an app's calls to one model, and one prompt version of them when streams
    are split by it (``prompt_version`` is ``""`` otherwise, or when the app sends none).

    :meth:`label` is its one spelling, in logs, in the alert state the worker stores
    (``alert_states.stream``) and, written in SQL, in Grafana's series names.
    """

    app: str
    model: str
    prompt_version: str = ""

    def label(self) -> str:
        """``app/model``, with ``@prompt_version`` when there is one.

        Without a prompt version it reads as the Kafka record key (``app/model``) the
        stream's events are published under.

        >>> StreamKey("chat", "gpt-4o").label(), StreamKey("chat", "gpt-4o", "v3").label()
        ('chat/gpt-4o', 'chat/gpt-4o@v3')
        """
        suffix = f"@{self.prompt_version}" if self.prompt_version else ""
        return f"{self.app}/{self.model}{suffix}"

    def __str__(self) -> str:
        return self.label()


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """Tumbling windows of ``length``; events up to ``lateness`` behind the latest one still
    count, and a key silent for ``idle_close`` of wall-clock time closes its windows."""

    length: timedelta
    lateness: timedelta
    idle_close: timedelta

    def start_of(self, ts: datetime) -> datetime:
        return datetime.fromtimestamp(self._floor(ts.timestamp()), tz=UTC)

    def starts_of(self, times: Iterable[datetime]) -> set[datetime]:
        """The windows holding ``times``: floored as numbers, a datetime per distinct one."""
        return {datetime.fromtimestamp(epoch, tz=UTC)
                for epoch in {self._floor(t.timestamp()) for t in times}}

    def _floor(self, epoch: float) -> float:
        return epoch - epoch % self.length.total_seconds()

    def end_of(self, start: datetime) -> datetime:
        return start + self.length


@dataclass
class KeyProgress:
    max_event_time: datetime
    last_seen_wall: float
    last_closed_start: datetime | None = None  # start of the newest closed window
    open_starts: set[datetime] = field(default_factory=set)


class WindowClock:
    """Tracks, per stream key, which windows hold events and which are due to close."""

    def __init__(self, spec: WindowSpec, wall_clock=time.monotonic) -> None:
        self.spec = spec
        self._wall = wall_clock
        self._keys: dict[StreamKey, KeyProgress] = {}
        self._caught_up_since: float | None = None  # wall time; None while lagging

    def caught_up(self, is_caught_up: bool) -> None:
        """Whether every record published so far is written: silence before that is not
        the keys' silence, so idle time starts counting again from here."""
        if not is_caught_up:
            self._caught_up_since = None
        elif self._caught_up_since is None:
            self._caught_up_since = self._wall()

    def restore(
        self, key: StreamKey, max_event_time: datetime, last_closed_start: datetime | None,
        open_starts: set[datetime],
    ) -> None:
        """State from storage after a restart: windows not yet closed are open again."""
        self._keys[key] = KeyProgress(
            max_event_time, self._wall(), last_closed_start,
            {s for s in open_starts if last_closed_start is None or s > last_closed_start},
        )

    def observe(self, key: StreamKey, event_time: datetime) -> None:
        """An event was durably written."""
        self.observe_many(key, (event_time,))

    def observe_many(self, key: StreamKey, event_times: Iterable[datetime]) -> None:
        """Events of one key were durably written (a batch's worth at once)."""
        times = list(event_times)
        if not times:
            return
        starts = self.spec.starts_of(times)
        latest = max(times)
        progress = self._keys.get(key)
        if progress is None:
            self._keys[key] = KeyProgress(latest, self._wall(), None, starts)
            return
        progress.last_seen_wall = self._wall()
        if latest > progress.max_event_time:
            progress.max_event_time = latest
        closed = progress.last_closed_start
        progress.open_starts.update(starts if closed is None else
                                    (s for s in starts if s > closed))

    def due(self) -> list[tuple[StreamKey, datetime]]:
        """Windows ready to close, oldest first per key."""
        ready: list[tuple[StreamKey, datetime]] = []
        now = self._wall()
        since = self._caught_up_since
        for key, progress in self._keys.items():
            watermark = progress.max_event_time - self.spec.lateness
            idle = since is not None and (
                now - max(progress.last_seen_wall, since) >= self.spec.idle_close.total_seconds()
            )
            for start in sorted(progress.open_starts):
                if idle or self.spec.end_of(start) <= watermark:
                    ready.append((key, start))
        return ready

    def closed(self, key: StreamKey, start: datetime) -> None:
        progress = self._keys[key]
        progress.open_starts.discard(start)
        if progress.last_closed_start is None or start > progress.last_closed_start:
            progress.last_closed_start = start

    def keys(self) -> list[StreamKey]:
        return sorted(self._keys)
