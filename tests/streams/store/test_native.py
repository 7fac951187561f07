"""Rows encoded where they are prepared are stored exactly as clickhouse-connect's own insert
stores them, in the columns and types the migrations create."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest

from detectors.scanners.redaction import Redactor
from schemas.tables import (
    EVENT_COLUMNS,
    EVENT_SCHEMA,
    EVENTS,
    FEEDBACK,
    FEEDBACK_COLUMNS,
    FEEDBACK_SCHEMA,
)
from streams.ingest.decode import feedback_decoder, trace_decoder
from streams.ingest.pricing import PriceTable
from streams.ingest.rows import feedback_row, trace_rows
from streams.ingest.scan import EventScanner
from streams.settings import Settings
from streams.store.client import ClickHouseStore
from streams.store.native import NativeBlock, NativeEncoder
from streams.testing.generator import GeneratorConfig, TrafficGenerator, to_json_line
from tests.support.tables import contents, copy_of

NOW = datetime.now(UTC)


@pytest.mark.parametrize(("table", "schema"), [(EVENTS, EVENT_SCHEMA),
                                               (FEEDBACK, FEEDBACK_SCHEMA)])
def test_the_declared_schema_is_the_migrated_one(
    chdb_store: ClickHouseStore, table: str, schema: tuple[tuple[str, str], ...]
) -> None:
    _, described = chdb_store.query(f"DESCRIBE TABLE {table}")
    assert tuple((name, type_name) for name, type_name, *_ in described) == schema


def test_event_blocks_store_what_a_client_insert_stores(chdb_store: ClickHouseStore) -> None:
    # Generated traffic with every signal (PII, secrets, toxic text, refusals, metadata maps,
    # nulls), encoded in two blocks by an encoder that went through pickle (as to an ingest
    # process) and inserted as one.
    values = [to_json_line(e) for e in TrafficGenerator(GeneratorConfig(
        seed=11, pii_rate=0.2, toxic_rate=0.2, refusal_rate=0.2, error_rate=0.1)).events(600)]
    settings = Settings()
    decode = trace_decoder(settings.max_event_bytes, settings.max_future_skew_seconds)
    scanner = EventScanner(Redactor(settings.redaction_policy, settings.redaction_salt))
    rows = trace_rows([decode(v, NOW) for v in values], NOW, PriceTable(settings.prices), scanner)
    encoder = pickle.loads(pickle.dumps(NativeEncoder(EVENT_SCHEMA)))
    block = NativeBlock.join([encoder.encode(rows[:250]), encoder.encode(rows[250:])])
    assert block.rows == len(rows) == 600

    by_client, by_block = copy_of(chdb_store, EVENTS), copy_of(chdb_store, EVENTS)
    chdb_store.insert_columns(by_client, list(zip(*rows, strict=True)), EVENT_COLUMNS)
    chdb_store.insert_native(by_block, block, EVENT_COLUMNS)
    assert contents(chdb_store, by_block) == contents(chdb_store, by_client)
    assert contents(chdb_store, by_block).count(b"\n") == 600


def test_feedback_blocks_store_what_a_client_insert_stores(chdb_store: ClickHouseStore) -> None:
    decode = feedback_decoder(1 << 20, 3600)
    events = [decode(f'{{"event_id": "e{i}", "score": {(i % 3 - 1) / 2}, "timestamp": '
                     f'"2026-11-23T09:00:0{i % 10}Z", "comment": "c{i}", "source": "app"}}'
                     .encode(), NOW) for i in range(40)]
    events += [decode(b'{"event_id": "t", "thumb": "down", "timestamp": 1700000000000}', NOW)]
    rows = [feedback_row(e, NOW, Redactor()) for e in events]
    by_client, by_block = copy_of(chdb_store, FEEDBACK), copy_of(chdb_store, FEEDBACK)
    chdb_store.insert_columns(by_client, list(zip(*rows, strict=True)), FEEDBACK_COLUMNS)
    block = NativeEncoder(FEEDBACK_SCHEMA).encode(rows)
    chdb_store.insert_native(by_block, block, FEEDBACK_COLUMNS)
    assert contents(chdb_store, by_block) == contents(chdb_store, by_client)
    assert contents(chdb_store, by_block).count(b"\n") == 41


def test_no_rows_is_an_empty_block() -> None:
    assert NativeEncoder(EVENT_SCHEMA).encode([]) == NativeBlock(b"", 0)
    assert NativeBlock.join([NativeBlock(), NativeBlock()]).rows == 0
