"""A generated drift incident in an embedded ClickHouse, stored the way a worker stores it.

Eight one-minute windows of support-bot traffic (both of its models); from window 4 on,
30 % of the prompts are about a new topic (crypto tax). Events go in through the worker's
row builder, and every window is closed and written by the worker's own window job
(aggregates, real sentence embeddings of the sampled prompts, MMD drift), so the report
reads exactly what a running deployment would have written. One alert transition is added
for the first drifted window, in the alert router's column layout.

The only change to the worker's path: the embedder keeps its vectors in pytest's cache
directory (same model, same normalisation), so a rerun skips the ~700 encodings.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import numpy as np

from detectors import Redactor
from schemas.events import TraceEvent
from schemas.tables import EVENT_COLUMNS
from streams.alerting import ALERT_COLUMNS
from streams.ingest.pricing import PriceTable
from streams.ingest.rows import trace_rows
from streams.ingest.scan import EventScanner
from streams.metrics import Metrics
from streams.service.app import build_window_service
from streams.settings import Settings, load_settings
from streams.store.client import ClickHouseStore
from streams.testing.generator import DRIFT_TOPIC, GeneratorConfig, TrafficGenerator
from streams.windows.clock import StreamKey
from tests.support.embedding_pool import embed

APP = "support-bot"
WINDOW = timedelta(seconds=60)
N_WINDOWS = 8
DRIFT_WINDOW = 4  # first window with the new topic
EVENTS_PER_SECOND = 1.5


@dataclass(frozen=True)
class Incident:
    store: ClickHouseStore
    url: str
    start: datetime  # of window 0
    drift_start: datetime  # of window DRIFT_WINDOW
    models: tuple[str, ...]
    new_topic_ids: frozenset[str]  # events whose prompt is about the new topic


class CachedEmbedder:
    """The bundled all-MiniLM-L6-v2, with vectors cached on disk between test runs."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.cache_dir = cache_dir

    def encode(self, texts: list[str]) -> np.ndarray:
        return embed(list(texts), self.cache_dir)


def incident_settings() -> Settings:
    return load_settings(
        env={}, window_seconds=WINDOW.total_seconds(), reference_events=100,
        drift_fields="prompt", embedding_sample=150, reference_sample=300,
        drift_permutations=200, embedding_device="cpu",
    )


def build_incident(
    directory: Path, cache_dir: Path | None = None, now: datetime | None = None
) -> Incident:
    """Store the incident; windows end a few minutes before ``now`` (so "24h" covers them)."""
    now = now or datetime.now(UTC)
    start = (now - (N_WINDOWS + 5) * WINDOW).replace(second=0, microsecond=0)
    url = f"chdb://{directory}"
    store = ClickHouseStore(url)
    store.migrate()
    config = GeneratorConfig(
        seed=21, start=start, events_per_second=EVENTS_PER_SECOND,
        drift_at=DRIFT_WINDOW * WINDOW.total_seconds(), drift_fraction=0.3, apps=(APP,),
        toxic_rate=0.03, pii_rate=0.05,
    )
    raw = list(TrafficGenerator(config).events(
        int(EVENTS_PER_SECOND * WINDOW.total_seconds() * N_WINDOWS)))
    events = [msgspec.convert(e, TraceEvent) for e in raw]
    rows = trace_rows(events, datetime.now(UTC), PriceTable({}),
                      EventScanner(Redactor("redact")))
    store.insert_columns("events", list(zip(*rows, strict=True)), EVENT_COLUMNS)

    service = build_window_service(incident_settings(), store, Metrics())
    service.job.embedder = CachedEmbedder(cache_dir)
    models = tuple(sorted({e.model for e in events}))
    first_drifted = None
    for i in range(N_WINDOWS):
        for model in models:
            outcome = service.job.close(StreamKey(APP, model), start + i * WINDOW)
            service.job.write(outcome)
            drifted = any(r.method == "mmd" and r.drifted for _, r in outcome.results)
            if drifted and first_drifted is None:
                first_drifted = outcome
    if first_drifted is not None:
        _store_alert(store, first_drifted.key.model, first_drifted.window_start,
                     first_drifted.window_end)
    new_topic = frozenset(e["event_id"] for e in raw if e["metadata"]["topic"] == DRIFT_TOPIC.name)
    return Incident(store, url, start, start + DRIFT_WINDOW * WINDOW, models, new_topic)


def _store_alert(store: ClickHouseStore, model: str, start: datetime, end: datetime) -> None:
    fingerprint = f"embedding_drift/{APP}/{model}"
    row = {
        "transition_id": str(uuid.uuid5(uuid.NAMESPACE_URL, fingerprint + start.isoformat())),
        "fingerprint": fingerprint, "rule": "embedding_drift", "state": "firing",
        "severity": "page", "app": APP, "model": model, "value": 1.0, "window_start": start,
        "window_end": end, "starts_at": end, "ends_at": None, "transition_at": end,
        "labels": {"app": APP, "model": model},
        "annotations": {"summary": f"prompt embeddings of {APP}/{model} drifted (MMD)",
                        "details": json.dumps({"window": start.isoformat()})},
    }
    store.insert_columns("alerts", [[row[c]] for c in ALERT_COLUMNS], ALERT_COLUMNS)
