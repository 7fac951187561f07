"""Retention: the settings become table TTLs at migration, a changed setting changes the table,
and rows past it are gone once ClickHouse merges."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from schemas.tables import BASELINES, DEPLOYMENT_SECRETS, EVENTS, RETENTION_COLUMNS
from streams.exceptions import ConfigError
from streams.settings import load_settings
from streams.store.client import ClickHouseStore


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseStore]:
    """A store of one test's own (database), unmigrated."""
    store = ClickHouseStore(f"chdb://{tmp_path_factory.getbasetemp() / 'retention'}",
                            database=f"r{uuid.uuid4().hex[:8]}")
    yield store
    store.close()


def ttl_of(store: ClickHouseStore, table: str) -> str:
    """The TTL line of SHOW CREATE TABLE ('' for none); the client gets its lines escaped."""
    lines = store.command(f"SHOW CREATE TABLE {table}").replace("\\n", "\n").splitlines()
    return next((line.removeprefix("TTL ") for line in lines if line.startswith("TTL ")), "")


def stored_days_ago(store: ClickHouseStore, days: list[int]) -> None:
    now = datetime.now(UTC)
    rows = [(f"e{d}", now - timedelta(days=d)) for d in days]
    store.insert_columns(EVENTS, [[r[0] for r in rows], [now for _ in rows], [r[1] for r in rows]],
                         ["event_id", "timestamp", "ingested_at"])


def kept(store: ClickHouseStore) -> list[str]:
    store.command(f"OPTIMIZE TABLE {EVENTS} FINAL")
    return [r[0] for r in store.query(f"SELECT event_id FROM {EVENTS} FINAL ORDER BY event_id")[1]]


def test_a_changed_retention_setting_changes_the_table_and_old_rows_go(
    store: ClickHouseStore,
) -> None:
    retention = load_settings(env={"SEISMO_RETENTION_DAYS_EVENTS": "30"}).retention_days()
    store.migrate(retention)
    assert ttl_of(store, EVENTS) == "toDateTime(ingested_at) + toIntervalDay(30)"
    stored_days_ago(store, [40, 5, 0])
    assert kept(store) == ["e0", "e5"]

    retention[EVENTS] = 3
    changes = store.migrate(retention)
    assert changes[-1] == (
        "ALTER TABLE events MODIFY TTL toDateTime(ingested_at) + toIntervalDay(3)")
    assert ttl_of(store, EVENTS) == "toDateTime(ingested_at) + toIntervalDay(3)"
    assert kept(store) == ["e0"]

    retention[EVENTS] = 0  # keep forever
    store.migrate(retention)
    assert ttl_of(store, EVENTS) == ""
    stored_days_ago(store, [400])
    assert kept(store) == ["e0", "e400"]


def test_migrating_again_with_the_same_retention_alters_nothing(store: ClickHouseStore) -> None:
    retention = load_settings(env={}).retention_days()
    first = store.migrate(retention)
    assert [s for s in first if s.startswith("ALTER")] == [
        f"ALTER TABLE {t} MODIFY TTL toDateTime({c}) + toIntervalDay({retention[t]})"
        for t, c in RETENTION_COLUMNS.items()
    ]
    assert not [s for s in store.migrate(retention) if s.startswith("ALTER")]
    # A process that only reads migrates without retention and leaves the TTLs alone.
    assert not [s for s in store.migrate() if s.startswith("ALTER")]
    assert "toIntervalDay(30)" in ttl_of(store, EVENTS)


def test_every_stored_table_has_a_retention_or_is_state(store: ClickHouseStore) -> None:
    store.migrate()
    _, rows = store.query("SELECT name FROM system.tables WHERE database = currentDatabase() "
                          "AND engine LIKE '%MergeTree'")
    # State the worker reads back (pins, alert state machines, the salt): replaced, never
    # piling up; expiring the salt would orphan every pseudonym.
    assert {r[0] for r in rows} - set(RETENTION_COLUMNS) == {
        BASELINES, "alert_states", DEPLOYMENT_SECRETS}


@pytest.mark.parametrize("value", ["-1", "30000"])
def test_a_bad_retention_names_its_setting(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env={"SEISMO_RETENTION_DAYS_FEEDBACK": value})
    assert info.value.setting == "retention_days_feedback"
