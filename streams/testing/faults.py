"""Fault injection for the fault-tolerance tests, at the boundaries they must break: the sink,
and the preparation of a batch, handed to the worker as its :class:`WorkerHooks`.

Off unless ``SEISMO_FAULT_SINK_OUTAGE`` or ``SEISMO_FAULT_POISON`` is set, which no deployment
does. ``SEISMO_FAULT_POISON`` is a marker: preparing any batch whose values contain it fails,
as a scanner that crashes on one input would (the poison record the pipeline must isolate).
``SEISMO_FAULT_SINK_OUTAGE``'s value is
``<after_rows>:<seconds>``: once the worker has written ``after_rows`` rows, every ClickHouse
insert fails for ``seconds``, then inserts succeed again. The outage is placed by stream
position rather than by wall-clock time so that it lands mid-stream however long the worker
takes to start. Reads keep working, as they do when a server refuses writes (a full disk, too
many parts), so a test can watch that nothing lands meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from streams.exceptions import ConfigError
from streams.ingest.prepare import Prepared, PrepareFn
from streams.service.hooks import WorkerHooks
from streams.settings.environment import environment
from streams.store.client import ClickHouseStore
from streams.store.native import NativeBlock

log = logging.getLogger(__name__)

SINK_OUTAGE_ENV = "SEISMO_FAULT_SINK_OUTAGE"
POISON_ENV = "SEISMO_FAULT_POISON"


class InjectedPoison(RuntimeError):
    """The failure an injected poison record causes in its batch's preparation."""


class InjectedSinkOutage(ConnectionError):
    """The write an injected outage refused (a ConnectionError, like a server that is down)."""


@dataclass(frozen=True, slots=True)
class SinkOutagePlan:
    """When the outage starts (rows written before it) and how long it lasts."""

    after_rows: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> SinkOutagePlan:
        after, sep, seconds = text.partition(":")
        try:
            plan = cls(int(after), float(seconds))
        except ValueError:
            plan = None
        if not sep or plan is None or plan.after_rows < 0 or not plan.seconds > 0:
            raise ConfigError(
                SINK_OUTAGE_ENV, f"must be <after_rows>:<seconds>, e.g. 5000:30, got {text!r}"
            )
        return plan


class SinkOutageStore:
    """A store whose inserts fail during the planned outage; every other call passes through."""

    def __init__(
        self, store: ClickHouseStore, plan: SinkOutagePlan,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self.plan = plan
        self._clock = clock
        self._lock = threading.Lock()  # inserts come from the sink's and the windows' threads
        self._rows = 0
        self._started: float | None = None
        self._over = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def _failing(self) -> bool:
        with self._lock:
            if self._over or self._rows < self.plan.after_rows:
                return False
            now = self._clock()
            if self._started is None:
                self._started = now
                log.warning("injected sink outage: inserts fail for %.0fs", self.plan.seconds)
            if now - self._started < self.plan.seconds:
                return True
            self._over = True
            log.warning("injected sink outage over: inserts succeed again")
            return False

    def insert_columns(
        self, table: str, columns: Sequence[Sequence[Any]], column_names: Sequence[str]
    ) -> None:
        self._insert(table, len(columns[0]) if columns else 0,
                     lambda: self._store.insert_columns(table, columns, column_names))

    def insert_native(self, table: str, block: NativeBlock, column_names: Sequence[str]) -> None:
        self._insert(table, block.rows,
                     lambda: self._store.insert_native(table, block, column_names))

    def _insert(self, table: str, rows: int, insert: Callable[[], None]) -> None:
        if self._failing():
            raise InjectedSinkOutage(f"injected outage: insert into {table} refused")
        insert()
        with self._lock:
            self._rows += rows


def fault_hooks(env: Mapping[str, str] | None = None) -> WorkerHooks:
    """The worker's hooks for the faults the environment asks for: none in any deployment.

    ``seismo worker`` hands them to :func:`streams.service.worker.run`; the service itself
    never imports this module. A malformed ``SEISMO_FAULT_SINK_OUTAGE`` is a ConfigError now,
    before the worker starts.
    """
    env = environment(env)
    hooks: dict[str, Any] = {}
    spec = env.get(SINK_OUTAGE_ENV)
    if spec:
        plan = SinkOutagePlan.parse(spec)
        hooks["store"] = lambda store: SinkOutageStore(store, plan)
    marker = env.get(POISON_ENV, "").encode()
    if marker:
        hooks["prepare"] = lambda prepare: poisoned(prepare, marker)
    return WorkerHooks(**hooks)


def poisoned(prepare: PrepareFn, marker: bytes) -> PrepareFn:
    """A pipeline's ``prepare`` that fails every batch holding ``marker``."""

    def prepare_or_fail(values: Sequence[bytes | None], now: datetime) -> Awaitable[Prepared]:
        if not any(value and marker in value for value in values):
            return prepare(values, now)
        # Failing when awaited, as a preparation in an ingest process fails.
        failed: asyncio.Future[Prepared] = asyncio.get_running_loop().create_future()
        failed.set_exception(InjectedPoison(f"injected poison: a value holds {marker!r}"))
        return failed

    return prepare_or_fail
