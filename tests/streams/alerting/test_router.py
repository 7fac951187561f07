"""The router keeps one alert state per stream key, stored under the key's label, and reads
back states stored before the label was the key's one spelling."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from streams.alerting import AlertEngine
from streams.alerting.router import AlertRouter
from streams.store.client import ClickHouseStore
from streams.windows.clock import StreamKey
from tests.streams.alerting.factories import ERROR_RULE, error_windows, rules


async def _published(key: bytes, value: bytes) -> asyncio.Future:
    """The broker's acknowledgement, already there (the router awaits it)."""
    done: asyncio.Future = asyncio.get_running_loop().create_future()
    done.set_result(None)
    return done


def test_a_state_stored_under_the_old_spelling_carries_on(chdb_store: ClickHouseStore) -> None:
    first, second = error_windows([0.2, 0.3])
    key = first.key
    assert key == StreamKey("chat", "gpt-4o", "v3")
    engine = AlertEngine(rules(ERROR_RULE))

    async def scenario() -> list[str]:
        before = AlertRouter(engine, chdb_store, _published)
        await before.on_outcome(first)  # pending
        # As a worker before the one spelling stored it: app/model/prompt_version.
        (_, states), = [r for r in chdb_store.query(
            "SELECT stream, states FROM alert_states FINAL")[1] if r[0] == key.label()]
        chdb_store.query("TRUNCATE TABLE alert_states")
        chdb_store.insert_columns(
            "alert_states", [["chat/gpt-4o/v3"], [states], [datetime.now(UTC)]],
            ("stream", "states", "updated_at"),
        )
        after = AlertRouter(engine, chdb_store, _published)
        after.restore()
        await after.on_outcome(second)
        _, rows = chdb_store.query("SELECT stream, states FROM alert_states FINAL")
        stored = dict(rows)
        assert json.loads(stored[key.label()])  # the new row, under the label
        _, alerts = chdb_store.query("SELECT state FROM alerts FINAL ORDER BY transition_at")
        return [a for (a,) in alerts]

    # The second window continues the pending alert into firing instead of starting over.
    assert asyncio.run(scenario())[-1] == "firing"
