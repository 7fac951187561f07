"""Is ingestion progressing? The group's committed offsets against its lag, per partition.

A partition is *stalled* when its committed offset has not moved for ``stall_seconds`` while
its lag grew: records keep arriving and none is stored. Both conditions are needed. Lag alone
is not a stall (a backlog being worked through commits as it goes), nor is an offset standing
still (nothing new arrived; or a transactional producer's commit marker, which leaves a lag of
one that no consumer commits past, see :mod:`streams.kafka.lag`). Read from the broker's committed
offsets, so the answer is the group's whatever worker asks, and covers every way of stalling:
ClickHouse refusing writes, a batch replayed forever, a consumer that lost its partitions.
A broker that cannot be asked gives no reading, and the state stays as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Partition = tuple[str, int]


@dataclass(slots=True)
class _Since:
    committed: int  # the offset as it was last seen moving
    at: float  # when
    lag: int  # the lag then


class ProgressWatch:
    """Fed each lag reading (:meth:`observe`); :attr:`stalled` names the partitions stalled."""

    def __init__(self, stall_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if stall_seconds <= 0:
            raise ValueError(f"stall_seconds must be positive, got {stall_seconds}")
        self.stall_seconds = stall_seconds
        self._clock = clock
        self._since: dict[Partition, _Since] = {}
        self.stalled: list[Partition] = []

    def observe(self, committed: Mapping[Partition, int], lag: Mapping[Partition, int]) -> None:
        """One reading: each partition's committed offset (its first offset when the group
        never committed) and lag."""
        now = self._clock()
        stalled = []
        for partition, behind in lag.items():
            offset = committed.get(partition, -1)
            since = self._since.get(partition)
            if since is None or offset != since.committed or behind == 0:
                self._since[partition] = _Since(offset, now, behind)
            elif now - since.at > self.stall_seconds and behind > since.lag:
                stalled.append(partition)
        self.stalled = sorted(stalled)

    @property
    def progressing(self) -> bool:
        return not self.stalled

    def status(self) -> dict[str, object]:
        """What /api/health reports."""
        return {"progressing": self.progressing,
                "stalled_partitions": [f"{topic}:{partition}" for topic, partition in self.stalled],
                "stall_seconds": self.stall_seconds}
