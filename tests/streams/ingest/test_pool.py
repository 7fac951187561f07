"""Ingest processes prepare exactly what the event loop prepares, and one that dies is
replaced: its pending batch fails (for the consumer to replay) and the next batch is prepared
by a new process."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime

import pytest

from schemas.tables import EVENT_COLUMNS, EVENTS
from streams.exceptions import ConfigError
from streams.ingest.pool import IngestProcessDied, PreparePool
from streams.ingest.prepare import PrepareConfig, Preparer
from streams.metrics import Metrics
from streams.settings import Settings, load_settings
from streams.store.client import ClickHouseStore
from streams.testing.generator import GeneratorConfig, TrafficGenerator, to_json_line
from tests.streams.ingest.otlp.fixtures import export_request, json_bytes
from tests.support.tables import contents, copy_of

# Keyed like a worker's (streams.store.salt): every ingest process then pseudonymises user ids
# alike.
CONFIG = PrepareConfig.from_settings(Settings(), salt="deployment-salt")
NOW = datetime.now(UTC)


def batch(n: int, seed: int) -> list[bytes | None]:
    """``n`` generated events with bad records among them (their indexes matter)."""
    values: list[bytes | None] = [to_json_line(e) for e in
                                  TrafficGenerator(GeneratorConfig(seed=seed)).events(n)]
    values[3] = b"not json"
    values[n // 2] = None
    values[-1] = b'{"event_id": "x"}'
    return values


def test_two_ingest_processes_prepare_what_the_event_loop_prepares(
    chdb_store: ClickHouseStore,
) -> None:
    traces = batch(301, seed=5)
    otlp = [json_bytes(export_request()), b"{", json_bytes(export_request())]
    local = Preparer(CONFIG)

    async def scenario() -> list:
        pool = PreparePool(CONFIG, 2, Metrics())
        await pool.start()
        try:
            return await asyncio.gather(pool.prepare("trace", traces, NOW),
                                        pool.prepare("otlp", otlp, NOW))
        finally:
            await pool.close()

    for (source, values), prepared in zip((("trace", traces), ("otlp", otlp)),
                                          asyncio.run(scenario()), strict=True):
        expected = local(source, values, NOW)
        # Two processes send two Native blocks: compared by what they store.
        assert prepared.block.rows == expected.block.rows > 0
        stored = []
        for block in (prepared.block, expected.block):
            table = copy_of(chdb_store, EVENTS)
            chdb_store.insert_native(table, block, EVENT_COLUMNS)
            stored.append(contents(chdb_store, table))
        assert stored[0] == stored[1]
        assert prepared.stream_times == expected.stream_times
        assert prepared.rejected == expected.rejected
        assert prepared.counters == expected.counters
    assert [i for i, _ in local("trace", traces, NOW).rejected] == [3, 150, 300]
    assert local("otlp", otlp, NOW).counters  # the OTLP counters were compared, not empty


def test_a_killed_ingest_process_fails_its_batch_and_the_next_gets_a_new_one() -> None:
    values = batch(2_000, seed=6)
    metrics = Metrics()

    async def scenario() -> None:
        pool = PreparePool(CONFIG, 1, metrics)
        await pool.start()
        try:
            await pool.prepare("trace", values[:10], NOW)  # started and answering
            [pid] = pool.pids()
            pending = pool.prepare("trace", values, NOW)
            os.kill(pid, signal.SIGKILL)
            with pytest.raises(IngestProcessDied):
                await pending
            prepared = await pool.prepare("trace", values, NOW)
            assert prepared.block.rows == len(prepared.stream_times) == len(values) - 3
            assert pool.pids() != [pid]
        finally:
            await pool.close()

    asyncio.run(scenario())
    assert metrics.value("seismo_ingest_process_restarts_total") == 1


@pytest.mark.parametrize("value", ["-1", "two"])
def test_a_bad_ingest_processes_is_one_line_naming_it(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env={"SEISMO_INGEST_PROCESSES": value})
    assert "INGEST_PROCESSES" in info.value.setting.upper()
    assert "\n" not in str(info.value)
