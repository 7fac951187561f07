"""Closing one window of one stream key: aggregates, embedding drift and change tests.

Everything is read from ClickHouse (the events of the window and of its reference), so the
result is a function of stored data: a window closed again after a crash gives the same rows,
and ReplacingMergeTree keeps one of them.

Embedding cost is bounded by a per-window sample: the ``embedding_sample`` events with the
smallest hash of their event_id (bottom-k sampling: uniform, deterministic, so a recomputed
window embeds the same events and finds them cached in ``embeddings``). While a window has
fewer events than that, every event is embedded. Embedded rows are stored with their topic
cluster and 2-D projection under the reference's topic model (:mod:`streams.windows.topic_stage`),
which also runs the window's cluster-share test.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from detectors import DetectorResult
from detectors.drift.power import PowerCalibration, verdict
from detectors.registry import DRIFT_TESTS
from detectors.result import DRIFT, NO_DRIFT
from schemas.events import to_datetime
from schemas.tables import DRIFT_COLUMNS, EMBEDDING_COLUMNS, WINDOW_METRIC_COLUMNS
from streams.embedding.encoder import TextEmbedder
from streams.settings import DriftSettings
from streams.store.client import ClickHouseStore
from streams.windows.change_tests import ChangeTests
from streams.windows.clock import StreamKey, WindowSpec
from streams.windows.closed import ClosedWindow
from streams.windows.references import KEY_FILTER, ReferenceRange, ReferenceResolver, key_parameters
from streams.windows.topic_stage import Placement, ReferenceTopics

log = logging.getLogger(__name__)

RANGE_FILTER = (
    "timestamp >= {start:DateTime64(3, 'UTC')} AND timestamp < {end:DateTime64(3, 'UTC')}"
)
# What drift embeds per field: for prompts the part prompt_embedding_text picked at ingest
# (rows stored before it existed read their whole prompt).
FIELD_TEXT = {"prompt": "embedded_prompt", "completion": "completion"}
FIELD_FILTER = {"prompt": "embedded_prompt != ''",
                "completion": "status = 'ok' AND completion != ''"}

METRICS_SQL = f"""
SELECT
    count() AS w_events,
    countIf(status = 'error') AS w_errors,
    w_errors / w_events AS w_error_rate,
    countIf(status = 'ok' AND completion = '') AS w_empty_completions,
    countIf(refusal) AS w_refusals,
    w_refusals / w_events AS w_refusal_rate,
    quantilesDD(0.01, 0.5, 0.9, 0.95, 0.99)(latency_ms) AS w_latency_q,
    quantilesDDIf(0.01, 0.5, 0.9, 0.95, 0.99)(ttft_ms, ttft_ms IS NOT NULL) AS w_ttft_q,
    avgOrNull(output_tokens_per_s) AS w_output_tokens_per_s,
    sum(ifNull(prompt_tokens, 0)) AS w_prompt_tokens,
    sum(ifNull(completion_tokens, 0)) AS w_completion_tokens,
    sum(ifNull(total_tokens, 0)) AS w_total_tokens,
    avgOrNull(total_tokens) AS w_mean_total_tokens,
    sum(ifNull(cost_usd, 0)) AS w_cost_usd,
    avgOrNull(cost_usd) AS w_mean_cost_usd,
    countIf(greatest(toxicity_prompt, toxicity_completion) >= {{toxicity_threshold:Float32}})
        AS w_toxic_events,
    w_toxic_events / w_events AS w_toxicity_rate,
    avg(greatest(toxicity_prompt, toxicity_completion)) AS w_toxicity_mean,
    countIf(notEmpty(pii_counts)) AS w_pii_events,
    w_pii_events / w_events AS w_pii_rate,
    sumMap(pii_counts) AS w_pii_counts,
    countIf(notEmpty(secret_counts)) AS w_secret_events,
    sumMap(secret_counts) AS w_secret_counts,
    countIf(completion_leaks > 0) AS w_leak_events,
    w_leak_events / w_events AS w_leak_rate,
    countIf(injection_score >= {{injection_threshold:Float32}}) AS w_injection_events,
    w_injection_events / w_events AS w_injection_rate
FROM events FINAL
WHERE {KEY_FILTER} AND {RANGE_FILTER}
"""

FEEDBACK_SQL = f"""
SELECT count(), countIf(negative) FROM feedback_by_trace
WHERE {KEY_FILTER} AND {RANGE_FILTER}
"""

ERRORS_BY_TYPE_SQL = f"""
SELECT error_type, toUInt32(count()) FROM events FINAL
WHERE {KEY_FILTER} AND {RANGE_FILTER} AND status = 'error'
GROUP BY error_type
"""


@dataclass(frozen=True)
class EmbeddedSample:
    """A range's bottom-k sample: its event rows (event_id, timestamp, prompt_version, text),
    their embeddings, the candidates it was drawn from, and which rows are not stored yet."""

    rows: list[list[Any]]
    vectors: np.ndarray
    total: int
    missing: list[int]

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def texts(self) -> list[str]:
        return [r[3] for r in self.rows]


@dataclass(frozen=True)
class ReferenceState:
    """What a reference sample is turned into once: its two-sample detectors, topics and the
    power calibration that gives each window's minimum detectable effect."""

    detectors: list[Any]
    topics: ReferenceTopics
    power: PowerCalibration

    @property
    def methods(self) -> list[str]:
        return [*(d.method for d in self.detectors), self.topics.detector.method]


class WindowJob:
    """Computes and stores a closed window's rows (blocking parts run on the store thread)."""

    def __init__(
        self, store: ClickHouseStore, embedder: TextEmbedder | None, spec: WindowSpec,
        references: ReferenceResolver, drift: DriftSettings, change_tests: ChangeTests,
        toxicity_threshold: float, injection_threshold: float,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.spec = spec
        self.references = references
        self.drift = drift
        self.change_tests = change_tests
        self.toxicity_threshold = toxicity_threshold
        self.injection_threshold = injection_threshold
        self._references: dict[tuple[StreamKey, str, ReferenceRange], ReferenceState] = {}

    def _params(self, key: StreamKey, start: datetime, end: datetime) -> dict[str, Any]:
        return {**key_parameters(key, self.references.split), "start": start, "end": end}

    # -- aggregates --------------------------------------------------------------------------
    def metrics(self, key: StreamKey, start: datetime, end: datetime) -> dict[str, Any]:
        params = {**self._params(key, start, end),
                  "toxicity_threshold": self.toxicity_threshold,
                  "injection_threshold": self.injection_threshold}
        columns, rows = self.store.query(METRICS_SQL, params)
        # Aliases carry a w_ prefix: ClickHouse would resolve a bare alias that shadows a
        # column (total_tokens) inside the other aggregates.
        values = {c.removeprefix("w_"): v for c, v in zip(columns, rows[0], strict=True)}
        latency_q, ttft_q = values.pop("latency_q"), values.pop("ttft_q")
        for name, q in (("latency", latency_q), ("ttft", ttft_q)):
            for label, value in zip(("p50", "p90", "p95", "p99"), q, strict=True):
                values[f"{name}_{label}"] = float(value) if value == value else 0.0
        _, error_rows = self.store.query(ERRORS_BY_TYPE_SQL, self._params(key, start, end))
        values["errors_by_type"] = {t or "unknown": int(n) for t, n in error_rows}
        # Feedback that has arrived by the time the window closes; later ratings are in the
        # feedback_by_trace view for dashboards.
        _, feedback_rows = self.store.query(FEEDBACK_SQL, self._params(key, start, end))
        rated, negative = (int(v) for v in feedback_rows[0])
        values.update(feedback_events=rated, negative_feedback=negative,
                      negative_feedback_rate=negative / rated if rated else 0.0)
        for name in ("output_tokens_per_s", "mean_total_tokens", "mean_cost_usd"):
            values[name] = float(values[name] or 0.0)
        return values

    # -- embeddings ----------------------------------------------------------------------------
    def _candidates(
        self, key: StreamKey, fld: str, start: datetime, end: datetime, limit: int
    ) -> tuple[int, list[list[Any]]]:
        where = f"{KEY_FILTER} AND {RANGE_FILTER} AND {FIELD_FILTER[fld]}"
        params = self._params(key, start, end)
        _, counted = self.store.query(f"SELECT count() FROM events FINAL WHERE {where}", params)
        _, rows = self.store.query(
            f"SELECT event_id, timestamp, prompt_version, {FIELD_TEXT[fld]} FROM events FINAL "
            f"WHERE {where} ORDER BY cityHash64(event_id), event_id LIMIT {{limit:UInt32}}",
            {**params, "limit": limit},
        )
        return int(counted[0][0]), rows

    def embed_sample(
        self, key: StreamKey, fld: str, start: datetime, end: datetime, limit: int
    ) -> EmbeddedSample:
        """Embeddings of the range's bottom-k sample: stored ones read back, the rest
        embedded now (and stored by :meth:`store_sample`, once their topics are known)."""
        assert self.embedder is not None
        total, rows = self._candidates(key, fld, start, end, limit)
        if not rows:
            return EmbeddedSample(rows, np.zeros((0, 0), dtype=np.float32), total, [])
        ids = [r[0] for r in rows]
        _, stored = self.store.query(
            "SELECT event_id, embedding FROM embeddings FINAL WHERE app = {app:String} AND "
            "model = {model:String} AND field = {field:String} AND event_id IN {ids:Array(String)}",
            {"app": key.app, "model": key.model, "field": fld, "ids": ids},
        )
        known = {event_id: np.asarray(vector, dtype=np.float32) for event_id, vector in stored}
        missing = [i for i, r in enumerate(rows) if r[0] not in known]
        if missing:
            vectors = self.embedder.encode([rows[i][3] for i in missing])
            known.update(zip((rows[i][0] for i in missing), vectors, strict=True))
        return EmbeddedSample(rows, np.stack([known[i] for i in ids]), total, missing)

    def store_sample(
        self, key: StreamKey, fld: str, sample: EmbeddedSample, topics: ReferenceTopics | None
    ) -> None:
        """Store the rows embedded now, with their cluster and projection under ``topics``.

        Rows stored before keep theirs: a recomputed window writes nothing new.
        """
        if not sample.missing:
            return
        new = [sample.rows[i] for i in sample.missing]
        vectors = sample.vectors[sample.missing]
        placed = topics.place(vectors) if topics else Placement.unplaced(len(new))
        count, now = len(new), datetime.now(UTC)
        self.store.insert_columns(
            "embeddings",
            [
                [r[0] for r in new], [to_datetime(r[1]) for r in new],
                [self.spec.start_of(to_datetime(r[1])) for r in new],
                [key.app] * count, [key.model] * count, [r[2] for r in new], [fld] * count,
                [r[3] for r in new], [v.tolist() for v in vectors], [now] * count,
                placed.cluster.tolist(), placed.xy[:, 0].tolist(), placed.xy[:, 1].tolist(),
            ],
            EMBEDDING_COLUMNS,
        )

    # -- drift -------------------------------------------------------------------------------
    def _reference_state(
        self, key: StreamKey, fld: str, reference: ReferenceRange
    ) -> ReferenceState | None:
        """Detectors and topics of the reference, built from its stored sample once."""
        cache_key = (key, fld, reference)
        if cache_key not in self._references:
            sample = self.embed_sample(key, fld, reference.start, reference.end,
                                       self.drift.reference_sample)
            if len(sample) < self.drift.min_window_events:
                self.store_sample(key, fld, sample, None)
                return None
            ref = sample.vectors
            topics = ReferenceTopics(ref, sample.texts, self.drift)
            self.store_sample(key, fld, sample, topics)
            # One reference per key and field is live at a time: drop the replaced ones.
            for stale in [k for k in self._references if k[:2] == (key, fld)]:
                del self._references[stale]
            self._references[cache_key] = ReferenceState([
                factory(ref, alpha=self.drift.drift_alpha,
                        n_resamples=self.drift.drift_permutations, seed=self.drift.drift_seed)
                for factory in DRIFT_TESTS.values()
            ], topics, PowerCalibration.from_reference(ref))
        return self._references[cache_key]

    def drift_results(
        self, key: StreamKey, start: datetime, end: datetime, reference: ReferenceRange
    ) -> list[tuple[str, DetectorResult, int, float]]:
        """(field, result, events, sampled fraction) per field and method.

        Every result carries the window's minimum detectable effect and its verdict. A window
        below ``min_window_events`` is not tested (its statistics are not worth their cost)
        but still gets a row per method saying ``insufficient_data``, so "no row" never passes
        for "no drift".
        """
        out = []
        for fld in self.drift.drift_field_list():
            window = self.embed_sample(key, fld, start, end, self.drift.embedding_sample)
            state = self._reference_state(key, fld, reference) if len(window) else None
            self.store_sample(key, fld, window, state.topics if state else None)
            if state is None:
                continue
            fraction = len(window) / max(window.total, 1)
            mde = state.power.mde(len(window), self.drift.drift_alpha)
            if len(window) < self.drift.min_window_events:
                results = [self._untested(method, state, len(window)) for method in state.methods]
            else:
                results = [d.score(window.vectors) for d in state.detectors]
                results.append(state.topics.test(window.vectors, window.texts))
            for result in results:
                judged = replace(result, min_detectable_effect=mde, verdict=verdict(
                    result.drifted, mde, self.drift.drift_min_effect))
                out.append((fld, judged, window.total, fraction))
        return out

    def _untested(self, method: str, state: ReferenceState, n_test: int) -> DetectorResult:
        """The row of a window too small to test: no statistic, never drifted."""
        nan = float("nan")
        return DetectorResult(method=method, statistic=nan, p_value=nan, threshold=nan,
                              drifted=False, n_ref=state.power.n_ref, n_test=n_test,
                              alpha=self.drift.drift_alpha, params={"tested": False})

    # -- the whole window ----------------------------------------------------------------------
    def close(self, key: StreamKey, start: datetime) -> ClosedWindow:
        """Compute a window's results; nothing is written until :meth:`write`."""
        end = self.spec.end_of(start)
        metrics = self.metrics(key, start, end)
        outcome = ClosedWindow(key, start, end, metrics)
        drift_rows = outcome.drift_rows
        reference = self.references.resolve(key, start)
        if reference is not None and not reference.contains_window(start) and metrics["events"]:
            tested: list[tuple[str, DetectorResult, int, float]] = []
            if self.embedder is not None:
                tested += self.drift_results(key, start, end, reference)
            tested += [
                (fld, result, metrics["events"], 1.0)
                for fld, result in self.change_tests.run(key, start, end, reference, metrics)
            ]
            now = datetime.now(UTC)
            for fld, result, events, fraction in tested:
                outcome.results.append((fld, result))
                drift_rows.append(self._drift_row(key, start, end, fld, result, events, fraction,
                                                  reference, now))
        return outcome

    def write(self, outcome: ClosedWindow) -> None:
        """Store a computed window: its test results, then its aggregates (which mark it
        closed for a restarted worker, so they go last)."""
        if outcome.drift_rows:
            self.store.insert_columns(
                "drift", list(zip(*outcome.drift_rows, strict=True)), DRIFT_COLUMNS
            )
        self._write_metrics(outcome.key, outcome.window_start, outcome.window_end,
                            outcome.metrics)

    def _drift_row(
        self, key: StreamKey, start: datetime, end: datetime, fld: str, result: DetectorResult,
        events: int, fraction: float, reference: ReferenceRange, now: datetime,
    ) -> list[Any]:
        params = {**result.params, "reference_policy": reference.policy,
                  "reference_start": reference.start.isoformat(),
                  "reference_end": reference.end.isoformat()}
        changed = str(params.pop("changed_clusters", ""))  # a column of its own
        return [start, end, key.app, key.model, key.prompt_version, fld, result.method,
                float(result.statistic), float(result.p_value), float(result.threshold),
                bool(result.drifted), result.n_ref, result.n_test, float(result.alpha), events,
                float(fraction), json.dumps(params, default=str), now, changed,
                float(result.min_detectable_effect),
                result.verdict or (DRIFT if result.drifted else NO_DRIFT)]

    def _write_metrics(
        self, key: StreamKey, start: datetime, end: datetime, metrics: dict[str, Any]
    ) -> None:
        row = {**metrics, "window_start": start, "window_end": end, "app": key.app,
               "model": key.model, "prompt_version": key.prompt_version,
               "computed_at": datetime.now(UTC)}
        self.store.insert_columns("window_metrics", [[row[c]] for c in WINDOW_METRIC_COLUMNS],
                                  WINDOW_METRIC_COLUMNS)
