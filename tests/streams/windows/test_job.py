"""Closing windows against the embedded ClickHouse, without Kafka: aggregates and tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import numpy as np
import pytest

from detectors import Redactor
from schemas.events import TraceEvent
from schemas.tables import EVENT_COLUMNS, FEEDBACK_COLUMNS
from streams.ingest.pricing import PriceTable
from streams.ingest.rows import trace_rows
from streams.ingest.scan import EventScanner
from streams.metrics import Metrics
from streams.service.app import build_window_service
from streams.settings import load_settings
from streams.store.client import ClickHouseStore
from streams.testing.generator import GeneratorConfig, TrafficGenerator
from streams.windows.baselines import insert_baseline
from streams.windows.clock import StreamKey

START = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
WINDOW = 20


@pytest.fixture(scope="module")
def store(chdb_store: ClickHouseStore) -> ClickHouseStore:
    return chdb_store


def load(store: ClickHouseStore, config: GeneratorConfig, n: int) -> list[TraceEvent]:
    events = [msgspec.convert(e, TraceEvent) for e in TrafficGenerator(config).events(n)]
    now = datetime.now(UTC)
    rows = trace_rows(events, now, PriceTable({}), EventScanner(Redactor("redact")))
    store.insert_columns("events", list(zip(*rows, strict=True)), EVENT_COLUMNS)
    return events


@pytest.fixture(scope="module")
def events(store) -> list[TraceEvent]:
    """Eight windows of support-bot traffic whose latency jumps in window 6."""
    config = GeneratorConfig(seed=3, start=START, events_per_second=25,
                             latency_spike_at=6 * WINDOW, apps=("support-bot",))
    return load(store, config, 25 * WINDOW * 8)


def test_window_metrics_match_the_events_and_latency_spike_fires(store, events) -> None:
    settings = load_settings(env={}, window_seconds=WINDOW, reference_events=300,
                             embedding_enabled=False)
    service = build_window_service(settings, store, Metrics())
    key = StreamKey("support-bot", "gpt-4o-mini")
    outcomes = {}
    for i in range(8):
        start = START + timedelta(seconds=i * WINDOW)
        outcomes[i] = service.job.close(key, start)
        service.job.write(outcomes[i])

    mine = [e for e in events if e.model == "gpt-4o-mini"
            and START + timedelta(seconds=WINDOW) <= e.event_time < START + 2 * timedelta(
                seconds=WINDOW)]
    metrics = outcomes[1].metrics
    assert metrics["events"] == len(mine)
    assert metrics["errors"] == sum(e.status == "error" for e in mine)
    exact = np.quantile([e.latency_ms for e in mine], [0.5, 0.95])
    # DDSketch at 1 % relative accuracy; the exact quantile of a small sample sits between
    # two order statistics, so allow for that spacing as well.
    assert metrics["latency_p50"] == pytest.approx(exact[0], rel=0.05)
    assert metrics["latency_p95"] == pytest.approx(exact[1], rel=0.1)
    assert metrics["total_tokens"] == sum((e.prompt_tokens or 0) + (e.completion_tokens or 0)
                                          for e in mine)

    def fired(i: int, fld: str) -> bool:
        return any(f == fld and r.drifted for f, r in outcomes[i].results)

    reference_windows = [i for i in outcomes if not outcomes[i].results]
    assert reference_windows == [0]  # 15 events/s of this key: the first 300 fill window 0
    assert not any(fired(i, "latency_ms") for i in range(1, 6))
    assert fired(6, "latency_ms") and fired(7, "latency_ms")
    assert not any(fired(i, "error_rate") or fired(i, "toxicity") for i in range(1, 8))
    rows = store.query("SELECT count() FROM window_metrics FINAL WHERE model = 'gpt-4o-mini'")[1]
    assert rows[0][0] == 8


def test_pinned_baseline_replaces_the_first_k_reference(store, events) -> None:
    settings = load_settings(env={}, window_seconds=WINDOW, reference_events=300,
                             reference_policy="pinned", embedding_enabled=False)
    service = build_window_service(settings, store, Metrics())
    key = StreamKey("support-bot", "gpt-4o-mini")
    later = START + timedelta(seconds=4 * WINDOW)
    assert service.job.references.resolve(key, later).policy == "first_k"  # no pin yet

    pinned_from, pinned_to = START + timedelta(seconds=2 * WINDOW), later
    insert_baseline(store, {"app": key.app, "model": key.model,
                            "from": pinned_from.isoformat(), "to": pinned_to.isoformat()})
    reference = service.job.references.resolve(key, later)
    assert (reference.policy, reference.start, reference.end) == ("pinned", pinned_from,
                                                                  pinned_to)
    outcome = service.job.close(key, later)
    assert outcome.results and all(r.n_ref > 0 for _, r in outcome.results)
    with pytest.raises(ValueError, match="after"):
        insert_baseline(store, {"app": "a", "model": "m", "from": later.isoformat(),
                                "to": START.isoformat()})


def test_negative_feedback_rate_is_reported_per_window_of_the_rated_trace(store, events) -> None:
    settings = load_settings(env={}, window_seconds=WINDOW, embedding_enabled=False)
    service = build_window_service(settings, store, Metrics())
    window = START + timedelta(seconds=3 * WINDOW)
    rated = [e for e in events if e.model == "claude-3-5-haiku"
             and window <= e.event_time < window + timedelta(seconds=WINDOW)][:10]
    later = datetime.now(UTC)  # hours after the calls, as feedback comes
    rows = [[e.event_id, later, later, -1.0 if i < 4 else 1.0, None,
             "down" if i < 4 else "up", "", "widget"] for i, e in enumerate(rated)]
    store.insert_columns("feedback", list(zip(*rows, strict=True)), FEEDBACK_COLUMNS)
    outcome = service.job.close(StreamKey("support-bot", "claude-3-5-haiku"), window)
    assert outcome.metrics["feedback_events"] == 10
    assert outcome.metrics["negative_feedback_rate"] == pytest.approx(0.4)
