"""Per-window change tests of the signals against the reference (all events, no sampling).

Each test runs once per window and key at level ``alpha``; with several tests per window
that level is the false-alarm rate of each, so the default is small (0.001) and the
alert rules add a consecutive-windows condition on top. Rates use Fisher's exact test, which
counts the reference's own sampling noise: a reference with no toxic event at all must not
make a single toxic event in a window significant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from detectors import DetectorResult, DistributionChange, RateChange, SLOCheck
from streams.settings import SignalSettings
from streams.store.client import ClickHouseStore
from streams.windows.clock import StreamKey
from streams.windows.references import KEY_FILTER, ReferenceRange, key_parameters

# Values a value test draws from the window and from the reference (a bottom-k hash sample):
# enough for a rank test's power, bounded so a busy window costs one capped query.
VALUE_SAMPLE = 5000

RANGE = "timestamp >= {start:DateTime64(3, 'UTC')} AND timestamp < {end:DateTime64(3, 'UTC')}"

# (field, column, alternative): value distributions compared by a two-sample rank test.
VALUE_TESTS = (
    ("latency_ms", "latency_ms", "increase"),
    ("total_tokens", "total_tokens", "two-sided"),
    ("cost_usd", "cost_usd", "two-sided"),
)
# (field, count column of window_metrics, SQL condition counting an event).
RATE_TESTS = (
    ("error_rate", "errors", "status = 'error'"),
    ("refusal_rate", "refusals", "refusal"),
    ("toxicity", "toxic_events",
     "greatest(toxicity_prompt, toxicity_completion) >= {toxicity_threshold:Float32}"),
    ("pii_rate", "pii_events", "notEmpty(pii_counts)"),
    ("leak_rate", "leak_events", "completion_leaks > 0"),
    ("injection_rate", "injection_events", "injection_score >= {injection_threshold:Float32}"),
)


class ChangeTests:
    """The window's change tests at the ``signals`` section's level (``signal_alpha``), with its
    thresholds, absolute rate limits (``max_rates``) and latency objectives (``slo_p95_ms``)."""

    def __init__(
        self, store: ClickHouseStore, settings: SignalSettings, split_by_prompt_version: bool
    ) -> None:
        self.store = store
        self.settings = settings
        self.split = split_by_prompt_version
        self._reference_cache: dict[tuple[StreamKey, ReferenceRange], dict[str, Any]] = {}

    def _params(self, key: StreamKey, start: datetime, end: datetime) -> dict[str, Any]:
        return {**key_parameters(key, self.split), "start": start, "end": end,
                "toxicity_threshold": self.settings.toxicity_threshold,
                "injection_threshold": self.settings.injection_threshold,
                "limit": VALUE_SAMPLE}

    def _values(self, key: StreamKey, column: str, start: datetime, end: datetime) -> np.ndarray:
        """A bottom-k hash sample of a column's non-null values in a range."""
        _, rows = self.store.query(
            f"SELECT {column} FROM events FINAL WHERE {KEY_FILTER} AND {RANGE} "
            f"AND {column} IS NOT NULL ORDER BY cityHash64(event_id) LIMIT {{limit:UInt32}}",
            self._params(key, start, end),
        )
        return np.asarray([r[0] for r in rows], dtype=np.float64)

    def _reference(self, key: StreamKey, reference: ReferenceRange) -> dict[str, Any]:
        cached = self._reference_cache.get((key, reference))
        if cached is not None:
            return cached
        counts = ", ".join(f"countIf({cond})" for _, _, cond in RATE_TESTS)
        _, rows = self.store.query(
            f"SELECT count(), {counts} FROM events FINAL WHERE {KEY_FILTER} AND {RANGE}",
            self._params(key, reference.start, reference.end),
        )
        data: dict[str, Any] = {"events": int(rows[0][0])}
        for (fld, _, _), count in zip(RATE_TESTS, rows[0][1:], strict=True):
            data[fld] = int(count)
        for fld, column, _ in VALUE_TESTS:
            data[fld + ":values"] = self._values(key, column, reference.start, reference.end)
        if reference.policy != "trailing":  # a trailing reference moves with every window
            self._reference_cache = {
                k: v for k, v in self._reference_cache.items() if k[0] != key
            }
            self._reference_cache[(key, reference)] = data
        return data

    def run(
        self, key: StreamKey, start: datetime, end: datetime, reference: ReferenceRange,
        metrics: dict[str, Any],
    ) -> list[tuple[str, DetectorResult]]:
        ref = self._reference(key, reference)
        if not ref["events"]:
            return []
        alpha = self.settings.signal_alpha
        results: list[tuple[str, DetectorResult]] = []
        latencies = None
        for fld, column, alternative in VALUE_TESTS:
            reference_values = ref[fld + ":values"]
            window_values = self._values(key, column, start, end)
            if column == "latency_ms":
                latencies = window_values
            if len(reference_values) < 2 or len(window_values) < 2:
                continue
            test = DistributionChange(reference_values, metric=fld, test="ks", alpha=alpha,
                                      alternative=alternative, seed=0)
            results.append((fld, test.score(window_values)))
        max_rates = self.settings.max_rates or {}
        for fld, count_column, _ in RATE_TESTS:
            test = RateChange(ref[fld], ref["events"], metric=fld, test="fisher", alpha=alpha,
                              alternative="increase", max_rate=max_rates.get(fld))
            results.append((fld, test.score(int(metrics[count_column]), int(metrics["events"]))))
        slo = (self.settings.slo_p95_ms or {}).get(key.app)
        if slo is not None and latencies is not None and len(latencies):
            results.append(("latency_slo", SLOCheck(slo, quantile=0.95).score(latencies)))
        return results
