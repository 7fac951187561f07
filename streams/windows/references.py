"""Which stretch of a stream is the reference a window is compared with.

Policies (setting ``reference_policy``):
- ``first_k`` (default): the first windows of the stream until they hold ``reference_events``
  events. Stable once reached; windows inside it are the reference and are not tested.
- ``trailing``: the ``reference_windows`` windows just before the tested one.
- ``pinned``: a range pinned with ``seismo baseline pin`` (stored in ``baselines``); streams
  without a pin fall back to ``first_k``.
Every policy resolves to a time range; samples are then read from ClickHouse, so the
reference survives restarts with the data it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas.events import to_datetime
from streams.store.client import ClickHouseStore
from streams.windows.clock import StreamKey, WindowSpec

KEY_FILTER = (
    "app = {app:String} AND model = {model:String} AND "
    "({split:UInt8} = 0 OR prompt_version = {prompt_version:String})"
)


def key_parameters(key: StreamKey, split_by_prompt_version: bool) -> dict[str, object]:
    return {"app": key.app, "model": key.model, "prompt_version": key.prompt_version,
            "split": int(split_by_prompt_version)}


@dataclass(frozen=True, slots=True)
class ReferenceRange:
    """The event-time range [start, end) a window is compared with, and the policy that chose
    it (stored with each drift row)."""

    start: datetime
    end: datetime
    policy: str

    def contains_window(self, start: datetime) -> bool:
        return self.start <= start < self.end


class ReferenceResolver:
    """Resolves the reference range per stream key (blocking; call on the store's thread)."""

    def __init__(
        self, store: ClickHouseStore, spec: WindowSpec, policy: str, reference_events: int,
        reference_windows: int, split_by_prompt_version: bool,
    ) -> None:
        self.store = store
        self.spec = spec
        self.policy = policy
        self.reference_events = reference_events
        self.reference_windows = reference_windows
        self.split = split_by_prompt_version
        self._first_k: dict[StreamKey, ReferenceRange] = {}

    def resolve(self, key: StreamKey, window_start: datetime) -> ReferenceRange | None:
        if self.policy == "trailing":
            start = window_start - self.spec.length * self.reference_windows
            return ReferenceRange(start, window_start, "trailing")
        if self.policy == "pinned":
            pinned = self.pinned(key)
            if pinned is not None:
                return pinned
        return self.first_k(key)

    def pinned(self, key: StreamKey) -> ReferenceRange | None:
        _, rows = self.store.query(
            "SELECT range_from, range_to FROM baselines FINAL WHERE " + KEY_FILTER,
            key_parameters(key, self.split),
        )
        if not rows:
            return None
        return ReferenceRange(to_datetime(rows[0][0]), to_datetime(rows[0][1]), "pinned")

    def first_k(self, key: StreamKey) -> ReferenceRange | None:
        cached = self._first_k.get(key)
        if cached is not None:
            return cached
        _, rows = self.store.query(
            "SELECT min(timestamp), count() FROM events FINAL WHERE " + KEY_FILTER,
            key_parameters(key, self.split),
        )
        first, count = rows[0]
        if count < self.reference_events:
            return None
        _, kth = self.store.query(
            "SELECT timestamp FROM events FINAL WHERE " + KEY_FILTER
            + " ORDER BY timestamp, event_id LIMIT 1 OFFSET {offset:UInt64}",
            {**key_parameters(key, self.split), "offset": self.reference_events - 1},
        )
        first, kth_time = to_datetime(first), to_datetime(kth[0][0])
        reference = ReferenceRange(
            self.spec.start_of(first), self.spec.end_of(self.spec.start_of(kth_time)), "first_k"
        )
        self._first_k[key] = reference
        return reference
