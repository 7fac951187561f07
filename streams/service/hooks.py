"""What a caller may wrap in a worker: the store it writes to and each ingest preparation.

The service never imports a fault: the fault-tolerance tests break the worker through these
hooks, which ``seismo worker`` builds with :func:`streams.testing.faults.fault_hooks` and hands
to :func:`streams.service.worker.run`. By default every hook returns what it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from streams.ingest.prepare import PrepareFn
from streams.store.client import ClickHouseStore

T = TypeVar("T")


def unchanged(value: T) -> T:
    return value


@dataclass(frozen=True, slots=True)
class WorkerHooks:
    """Wrappers the composition root applies as it builds the worker.

    Attributes
    ----------
    store : callable
        The store as the worker should use it, from the one it opened.
    prepare : callable
        A trace or OTLP pipeline's ``prepare``, from the one built for it (feedback is
        prepared in the event loop and not wrapped).
    """

    store: Callable[[ClickHouseStore], ClickHouseStore] = unchanged
    prepare: Callable[[PrepareFn], PrepareFn] = unchanged


NO_HOOKS = WorkerHooks()
