"""From closed windows to alert transitions: evaluate the rules, publish every transition to
the alerts topic (the durable outbox the notifiers read), store it, keep the states."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from streams.alerting import ALERT_COLUMNS, AlertEngine, AlertStates
from streams.alerting.transitions import Transition
from streams.store.client import ClickHouseStore
from streams.windows.clock import StreamKey
from streams.windows.closed import ClosedWindow

log = logging.getLogger(__name__)

# (key, value) -> awaitable completing when the broker has the record.
Publish = Callable[[bytes, bytes], Awaitable[Any]]


class AlertRouter:
    def __init__(
        self, engine: AlertEngine, store: ClickHouseStore, publish: Publish
    ) -> None:
        self.engine = engine
        self.store = store
        self.publish = publish
        self._states: dict[str, dict[str, Any]] = {}

    def restore(self) -> None:
        _, rows = self.store.query("SELECT stream, states FROM alert_states FINAL")
        self._states = {stream: json.loads(states) for stream, states in rows}
        # The budget's levels count every key seen, before a restart too.
        self.engine.budget.see(self._states)

    def _stored(self, key: StreamKey) -> dict[str, Any] | None:
        # Rows stored before the stream key had one spelling are keyed app/model/prompt_version;
        # the first window closed after that rewrites them under the label.
        legacy = "/".join((key.app, key.model, key.prompt_version))
        return self._states.get(key.label(), self._states.get(legacy))

    async def on_outcome(self, window: ClosedWindow) -> None:
        states = AlertStates.from_dict(self._stored(window.key))
        transitions = self.engine.evaluate(window, states)
        await self.announce(transitions)
        key = window.key.label()
        saved = states.to_dict()
        self._states[key] = saved
        await self.store.run(
            self.store.insert_columns, "alert_states",
            [[key], [json.dumps(saved)], [datetime.now(UTC)]],
            ("stream", "states", "updated_at"),
        )

    async def send(self, transitions: Sequence[Transition]) -> None:
        """Publish transitions to the alerts topic (for the notifiers), without storing them."""
        # Keyed by fingerprint: one alert's transitions stay in order in one partition.
        deliveries = [await self.publish(t.fingerprint.encode(), t.to_json())
                      for t in transitions]
        await asyncio.gather(*deliveries)

    async def announce(self, transitions: Sequence[Transition]) -> None:
        """Publish transitions to the alerts topic (for the notifiers) and store them."""
        if not transitions:
            return
        await self.send(transitions)
        rows = [t.to_row() for t in transitions]
        await self.store.run(self.store.insert_columns, "alerts",
                             list(zip(*rows, strict=True)), ALERT_COLUMNS)
        for t in transitions:
            log.info("alert %s %s for %s/%s", t.rule, t.state, t.app, t.model)
