"""A seeded ClickHouse dataset: an hour of clean traffic, then an hour with an incident.

Events come from the traffic generator through the worker's own row builder; window metrics,
detector results (``drift``) and alert transitions are written directly, with the shapes the
worker writes, so that every table a dashboard or rule reads has rows.

The incident hits ``support-bot`` in the second half of its hour: errors, latency and toxicity
rise, prompts drift, and the window tests decide "changed" in every window. The clean hour
holds one isolated false alarm per test (the last window of one stream), which a rule that
demands consecutive windows must not page on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from detectors import Redactor
from grafana.alert_rules import AlertSettings
from grafana.queries import ALERTS, DRIFT, WINDOW_METRICS
from schemas.events import TRACE_DECODER
from schemas.tables import (
    DRIFT_COLUMNS,
    DRIFT_VERDICT,
    EMBEDDING_COLUMNS,
    EMBEDDINGS,
    EVENT_COLUMNS,
    EVENTS,
    FEEDBACK,
    FEEDBACK_COLUMNS,
    INSUFFICIENT_DATA_VERDICT,
    NO_DRIFT_VERDICT,
)
from streams.ingest.pricing import PriceTable
from streams.ingest.rows import trace_rows
from streams.ingest.scan import EventScanner
from streams.settings import DEFAULT_PRICES, Settings
from streams.store.client import ClickHouseStore
from streams.testing.generator import APPS, GeneratorConfig, TrafficGenerator

# The worker's defaults, and the rules as the committed provisioning files make them.
WORKER = Settings()
RULE_SETTINGS = AlertSettings.following(WORKER)
BASE = datetime(2025, 3, 3, tzinfo=UTC)
WINDOW = timedelta(seconds=RULE_SETTINGS.window_seconds)
INCIDENT_APP = "support-bot"
# Test levels as the worker's defaults.
DRIFT_ALPHA, SIGNAL_ALPHA = WORKER.drift_alpha, WORKER.signal_alpha
# (field, method, alpha) of the window tests the worker stores per window.
TESTS = (
    ("prompt", "mmd", DRIFT_ALPHA),
    ("prompt", "cluster_share", DRIFT_ALPHA),
    ("completion", "mmd", DRIFT_ALPHA),
    ("latency_ms", "latency_ms_ks", SIGNAL_ALPHA),
    ("error_rate", "error_rate_fisher", SIGNAL_ALPHA),
    ("toxicity", "toxicity_fisher", SIGNAL_ALPHA),
)
EVENTS_PER_SECOND = 0.5


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def windows(self) -> Iterator[tuple[datetime, datetime]]:
        start = self.start
        while start < self.end:
            yield start, start + WINDOW
            start += WINDOW

    @property
    def middle(self) -> datetime:
        return self.start + (self.end - self.start) / 2


CLEAN = Period(BASE, BASE + timedelta(hours=1))
INCIDENT = Period(BASE + timedelta(hours=2), BASE + timedelta(hours=3))
STREAMS: tuple[tuple[str, str], ...] = tuple(
    (app.name, model) for app in APPS.values() for model, _ in app.models
)
# The stream whose last clean window carries the false alarms.
FALSE_ALARM_STREAM = STREAMS[-1]
# A stream outside the incident app whose windows in the first half of the clean hour are too
# thin to detect the minimum effect: its embedding rows there say insufficient_data (minimum
# detectable effects as the worker computes them for 10 vs. 40 sampled events against a
# 500-event reference; detectors/drift/power.py). Later windows are as usual, so every stream
# still has a verdict at the end of each period.
THIN_STREAM = next(s for s in STREAMS if s[0] != INCIDENT_APP and s != FALSE_ALARM_STREAM)
THIN_MDE, USUAL_MDE = 0.56, 0.29


def _insert(store: ClickHouseStore, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    store.insert_columns(table, list(zip(*rows, strict=True)), columns)


# -- events and feedback ---------------------------------------------------------------------
def _events(config: GeneratorConfig, seconds: float) -> list[dict[str, Any]]:
    return list(TrafficGenerator(config).events(int(seconds * config.events_per_second)))


def event_dicts() -> list[dict[str, Any]]:
    hour = (CLEAN.end - CLEAN.start).total_seconds()
    clean = _events(GeneratorConfig(seed=1, start=CLEAN.start,
                                    events_per_second=EVENTS_PER_SECOND), hour)
    background = _events(GeneratorConfig(seed=2, start=INCIDENT.start,
                                         events_per_second=EVENTS_PER_SECOND), hour)
    incident = _events(
        GeneratorConfig(seed=3, start=INCIDENT.middle, events_per_second=EVENTS_PER_SECOND,
                        apps=(INCIDENT_APP,), error_rate=0.3, toxic_rate=0.1,
                        latency_spike_at=0.0),
        hour / 2,
    )
    return clean + background + incident


def insert_events(store: ClickHouseStore, events: list[dict[str, Any]]) -> None:
    decoded = [TRACE_DECODER.decode(json.dumps(raw).encode()) for raw in events]
    rows = trace_rows(decoded, datetime.now(UTC), PriceTable(DEFAULT_PRICES),
                      EventScanner(Redactor("redact")))
    _insert(store, EVENTS, EVENT_COLUMNS, rows)


def insert_feedback(store: ClickHouseStore, events: list[dict[str, Any]]) -> None:
    """A thumb on every tenth call, a minute after it; failed calls get thumbs down."""
    rows = []
    for raw in events[::10]:
        at = datetime.fromisoformat(raw["timestamp"].replace("Z", "+00:00"))
        up = raw["status"] == "ok"
        rows.append((raw["event_id"], at + timedelta(minutes=1), at + timedelta(minutes=1),
                     1.0 if up else -1.0, None, "up" if up else "down", "", "web"))
    _insert(store, FEEDBACK, FEEDBACK_COLUMNS, rows)


# -- window metrics --------------------------------------------------------------------------
WINDOW_COLUMNS = (
    "window_start", "window_end", "app", "model", "prompt_version", "events", "errors",
    "error_rate", "refusals", "refusal_rate", "latency_p50", "latency_p90", "latency_p95",
    "latency_p99", "ttft_p50", "ttft_p90", "ttft_p95", "ttft_p99", "output_tokens_per_s",
    "prompt_tokens", "completion_tokens", "total_tokens", "mean_total_tokens", "cost_usd",
    "mean_cost_usd", "toxic_events", "toxicity_rate", "toxicity_mean", "pii_events", "pii_rate",
    "injection_events", "injection_rate", "computed_at",
)
# Quantiles of a log-normal latency relative to its median (sigma 0.5).
_QUANTILE_FACTORS = {"p50": 1.0, "p90": 1.9, "p95": 2.28, "p99": 3.2}


def _in_incident(app: str, window_start: datetime) -> bool:
    return app == INCIDENT_APP and window_start >= INCIDENT.middle


def window_rows(rng: np.random.Generator) -> list[tuple]:
    rows = []
    for period in (CLEAN, INCIDENT):
        for start, end in period.windows():
            for index, (app, model) in enumerate(STREAMS):
                bad = _in_incident(app, start)
                events = int(rng.poisson(40))
                errors = int(rng.binomial(events, 0.25 if bad else 0.01))
                refusals = int(rng.binomial(events, 0.02))
                toxic = int(rng.binomial(events, 0.08 if bad else 0.002))
                pii = int(rng.binomial(events, 0.01))
                injections = int(rng.binomial(events, 0.005))
                median = (300.0 + 60.0 * index) * (4.0 if bad else 1.0) * rng.uniform(0.9, 1.1)
                latency = [median * f for f in _QUANTILE_FACTORS.values()]
                ttft = [0.3 * q for q in latency]
                prompt_tokens, completion_tokens = 120 * events, 200 * events
                total = prompt_tokens + completion_tokens
                cost = total * 2e-6
                rows.append((
                    start, end, app, model, "", events, errors, errors / events, refusals,
                    refusals / events, *latency, *ttft, 60.0, prompt_tokens, completion_tokens,
                    total, total / events, cost, cost / events, toxic, toxic / events,
                    0.1, pii, pii / events, injections, injections / events, end,
                ))
    return rows


# -- detector results ------------------------------------------------------------------------
# What the cluster-share test names in a changed window (drift.changed_clusters).
NEW_TOPIC_CHANGE = "grew: tax · crypto · gains 1.0% → 28.0%"


def drift_rows(rng: np.random.Generator) -> list[tuple]:
    last_clean_window = list(CLEAN.windows())[-1][0]
    rows = []
    for period in (CLEAN, INCIDENT):
        for start, end in period.windows():
            for app, model in STREAMS:
                false_alarm = (app, model) == FALSE_ALARM_STREAM and start == last_clean_window
                for field, method, alpha in TESTS:
                    if _in_incident(app, start) or false_alarm:
                        p_value = float(rng.uniform(0.0, alpha / 10))
                    else:
                        # Honest no-change p-values, kept above alpha so that the only
                        # clean-hour alarms are the planted ones.
                        p_value = float(rng.uniform(alpha, 1.0))
                    changed = NEW_TOPIC_CHANGE if method == "cluster_share" and (
                        p_value < alpha) else ""
                    rows.append((
                        start, end, app, model, "", field, method, -np.log10(p_value),
                        p_value, float("nan"), p_value < alpha, 500, 40, alpha, 40, 1.0,
                        "{}", end, changed, *_power(app, model, start, method, p_value < alpha),
                    ))
    return rows


def _power(
    app: str, model: str, start: datetime, method: str, drifted: bool
) -> tuple[float, str]:
    """(min_detectable_effect, verdict) as the worker stores them: calibrated for the
    embedding tests only, insufficient_data where the effect is above the minimum."""
    if method not in ("mmd", "cluster_share"):
        return float("nan"), DRIFT_VERDICT if drifted else NO_DRIFT_VERDICT
    mde = THIN_MDE if (app, model) == THIN_STREAM and start < CLEAN.middle else USUAL_MDE
    if drifted:
        return mde, DRIFT_VERDICT
    return mde, INSUFFICIENT_DATA_VERDICT if mde > WORKER.drift_min_effect else NO_DRIFT_VERDICT


# -- the embedded sample ---------------------------------------------------------------------
SAMPLED_PER_WINDOW = 4  # rows per window and stream; the worker samples hundreds
N_CLUSTERS = 4


def embedding_rows(rng: np.random.Generator) -> list[tuple]:
    """Placed rows of every window (cluster and 2-D coordinates as the worker stores them),
    plus one row per stream stored before a topic model existed (cluster -1, no coordinates).
    """
    rows = []
    for period in (CLEAN, INCIDENT):
        for w, (start, _) in enumerate(period.windows()):
            for app, model in STREAMS:
                for i in range(SAMPLED_PER_WINDOW):
                    cluster = int(rng.integers(N_CLUSTERS))
                    x, y = rng.normal(cluster, 0.3, size=2)
                    rows.append((f"{app}/{model}/{start:%H%M}/{i}", start + timedelta(seconds=i),
                                 start, app, model, "", "prompt", "a prompt", [0.0, 1.0], start,
                                 cluster, float(x), float(y)))
                if w == 0:
                    rows.append((f"{app}/{model}/unplaced", start, start, app, model, "",
                                 "prompt", "a prompt", [0.0, 1.0], start, -1, float("nan"),
                                 float("nan")))
    return rows


# -- alert transitions -----------------------------------------------------------------------
ALERT_COLUMNS = (
    "transition_id", "fingerprint", "rule", "state", "severity", "app", "model", "value",
    "window_start", "window_end", "starts_at", "ends_at", "transition_at", "labels",
    "annotations",
)
FIRING_FINGERPRINT = "fp-incident-errors"


def alert_rows() -> list[tuple]:
    def transitions(fingerprint: str, rule: str, app: str, model: str, period: Period,
                    states: Sequence[str]) -> list[tuple]:
        starts = period.start + timedelta(minutes=35)
        out = []
        for step, state in enumerate(states):
            at = starts + step * WINDOW
            ends = at if state == "resolved" else None
            out.append((f"{fingerprint}-{step}", fingerprint, rule, state, "critical", app, model,
                        0.2, at - WINDOW, at, starts, ends, at, {"app": app}, {}))
        return out

    return [
        # Clean hour: a blip that fired and resolved.
        *transitions("fp-clean-latency", "latency_p95_slo", "code-assistant", "gpt-4o", CLEAN,
                     ("pending", "firing", "resolved")),
        # Incident hour: one alert still firing, one that fired and resolved.
        *transitions(FIRING_FINGERPRINT, "error_rate", INCIDENT_APP, "gpt-4o-mini", INCIDENT,
                     ("pending", "firing")),
        *transitions("fp-incident-drift", "prompt_drift", INCIDENT_APP, "claude-3-5-haiku",
                     INCIDENT, ("firing", "resolved")),
    ]


def fill(store: ClickHouseStore, seed: int = 0) -> None:
    """Migrate ``store`` and write the whole dataset."""
    store.migrate()
    rng = np.random.default_rng(seed)
    events = event_dicts()
    insert_events(store, events)
    insert_feedback(store, events)
    _insert(store, WINDOW_METRICS, WINDOW_COLUMNS, window_rows(rng))
    _insert(store, DRIFT, DRIFT_COLUMNS, drift_rows(rng))
    _insert(store, EMBEDDINGS, EMBEDDING_COLUMNS, embedding_rows(rng))
    _insert(store, ALERTS, ALERT_COLUMNS, alert_rows())
