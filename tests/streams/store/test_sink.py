"""The ClickHouse sink tells rows ClickHouse refuses from a ClickHouse that is away: the first
are isolated and dead-lettered by the pipeline, the second waited out (nothing to the DLQ).

The store is the real embedded engine; the one fake is a batch whose Native bytes are cut short
when it holds a marked record, which is how a row ClickHouse cannot read reaches it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord

from schemas.tables import EVENT_COLUMNS, EVENTS
from streams.exceptions import RowsRefused, SinkUnavailable
from streams.ingest.dead_letters import REASON_HEADER, DeadLetters
from streams.ingest.pipeline import POISON, IngestPipeline
from streams.ingest.prepare import PrepareConfig, Prepared, Preparer
from streams.metrics import Metrics
from streams.settings import Settings
from streams.store.client import ClickHouseStore
from streams.store.native import NativeBlock
from streams.store.sink import ClickHouseSink

MARK = "refuse-me"


@pytest.fixture(scope="module")
def store(chdb_store: ClickHouseStore) -> ClickHouseStore:
    return chdb_store


@pytest.fixture(scope="module")
def preparer() -> Preparer:
    return Preparer(PrepareConfig.from_settings(Settings(), salt="test-salt"))


def event(run: str, i: int, prompt: str = "hello") -> bytes:
    when = datetime.now(UTC) - timedelta(minutes=5)
    return json.dumps({"event_id": f"{run}-{i}", "timestamp": when.isoformat(), "app": "sink",
                       "model": "m", "latency_ms": 5, "prompt": prompt}).encode()


def stored_ids(store: ClickHouseStore, run: str) -> set[str]:
    sql = "SELECT event_id FROM events FINAL WHERE startsWith(event_id, {r:String})"
    _, rows = store.query(sql, {"r": run + "-"})
    return {r[0] for r in rows}


def cut_short(block: NativeBlock) -> NativeBlock:
    return NativeBlock(block.data[:-3], block.rows)


def test_rows_clickhouse_cannot_read_are_refused_not_waited_for(store, preparer) -> None:
    run = uuid.uuid4().hex[:8]
    good = preparer("trace", [event(run, 1)], datetime.now(UTC)).block
    sink = ClickHouseSink(store, EVENTS, EVENT_COLUMNS)
    sink.add(cut_short(good))
    with pytest.raises(RowsRefused, match="ATTEMPT_TO_READ_AFTER_EOF|CANNOT_READ_ALL_DATA"):
        asyncio.run(sink.flush())
    assert len(sink) == 0  # dropped: the pipeline prepares the batch again
    sink.add(good)
    assert asyncio.run(sink.flush()) == 1
    assert stored_ids(store, run) == {f"{run}-1"}


def test_a_missing_table_is_waited_out_as_an_outage(store, preparer) -> None:
    block = preparer("trace", [event(uuid.uuid4().hex[:8], 1)], datetime.now(UTC)).block
    sink = ClickHouseSink(store, "no_such_table", EVENT_COLUMNS)
    sink.add(block)
    with pytest.raises(SinkUnavailable):
        asyncio.run(sink.flush())
    assert len(sink) == 1  # kept for the next flush


def test_a_record_clickhouse_refuses_is_dead_lettered_and_the_rest_stored(store,
                                                                         preparer) -> None:
    run = uuid.uuid4().hex[:8]
    values = [event(run, i, MARK if i == 7 else "hello") for i in range(20)]
    records = [ConsumerRecord("t", 0, i, 0, 0, None, v, None, len(v), -1, [])
               for i, v in enumerate(values)]
    sent: list[tuple[Any, Any, list]] = []

    async def send(key: Any, value: Any, headers: list) -> Any:
        sent.append((key, value, headers))
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def prepare(batch: list[bytes | None], now: datetime) -> Prepared:
        prepared = preparer("trace", batch, now)
        if any(MARK.encode() in (v or b"") for v in batch):
            return replace(prepared, block=cut_short(prepared.block))
        return prepared

    metrics = Metrics()
    pipeline = IngestPipeline(
        prepare=prepare, sink=ClickHouseSink(store, EVENTS, EVENT_COLUMNS),
        dead_letters=DeadLetters(send), metrics=metrics, retry_seconds=0.01,
    )
    asyncio.run(pipeline.write(records, pipeline.prepare(records)))

    assert stored_ids(store, run) == {f"{run}-{i}" for i in range(20) if i != 7}
    assert [v for _, v, _ in sent] == [values[7]]
    assert dict(sent[0][2])[REASON_HEADER] == POISON.encode()
    assert metrics.value("seismo_poison_records_total") == 1
