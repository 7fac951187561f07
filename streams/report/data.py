"""What a report shows, read from ClickHouse: drift rows, window metrics, alerts, and the
embedded sample (reference and windows) with its texts.

Reads go through any object with ``query(sql, parameters) -> (columns, rows)``: a
:class:`streams.store.reader.StoreReader` (a running worker's API, else the store opened directly)
or a :class:`streams.store.client.ClickHouseStore`. Rows from the worker API arrive as JSON
(timestamps as ISO strings, NaN as null), so every value is normalised here.

The embedded sample is bounded: at most ``per_window`` rows per window and stream, fewer
when the period has many windows (``max_rows`` in all), chosen by the smallest hash of the
event id, the same bottom-k rule the worker samples by.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from streams.exceptions import ConfigError
from streams.settings import Settings

TIME = "DateTime64(3, 'UTC')"
RANGE = f"{{start:{TIME}}}"
RANGE_END = f"{{end:{TIME}}}"

DRIFT_SQL = f"""
SELECT window_start, window_end, model, prompt_version, field, method, statistic, p_value,
       threshold, drifted, n_ref, n_test, alpha, n_events, params, changed_clusters,
       min_detectable_effect, verdict
FROM drift FINAL
WHERE app = {{app:String}} AND window_start >= {RANGE} AND window_start < {RANGE_END}
ORDER BY window_start, model, prompt_version, field, method
"""

METRICS_SQL = f"""
SELECT window_start, window_end, model, prompt_version, events, error_rate, latency_p50,
       latency_p95, latency_p99, toxicity_rate, pii_rate, injection_rate, refusal_rate
FROM window_metrics FINAL
WHERE app = {{app:String}} AND window_start >= {RANGE} AND window_start < {RANGE_END}
ORDER BY window_start, model, prompt_version
"""

# Transitions made in the period, or about windows in it (a backfill pages later).
ALERTS_SQL = f"""
SELECT transition_at, rule, state, severity, model, value, window_start, window_end,
       annotations
FROM alerts FINAL
WHERE app = {{app:String}} AND ((transition_at >= {RANGE} AND transition_at < {RANGE_END})
      OR (window_start >= {RANGE} AND window_start < {RANGE_END}))
ORDER BY transition_at, rule
"""

SAMPLE_FILTER = (
    f"app = {{app:String}} AND field = {{field:String}} AND timestamp >= {RANGE} "
    f"AND timestamp < {RANGE_END}"
)
SAMPLE_GROUPS_SQL = f"""
SELECT model, window_start, count() FROM embeddings FINAL WHERE {SAMPLE_FILTER}
GROUP BY model, window_start
"""
SAMPLE_SQL = f"""
SELECT event_id, timestamp, window_start, model, prompt_version, text, embedding
FROM embeddings FINAL WHERE {SAMPLE_FILTER}
ORDER BY model, window_start, cityHash64(event_id), event_id
LIMIT {{per_window:UInt32}} BY model, window_start
"""
REFERENCE_SQL = f"""
SELECT event_id, timestamp, window_start, model, prompt_version, text, embedding
FROM embeddings FINAL WHERE {SAMPLE_FILTER} AND model = {{model:String}}
  AND ({{prompt_version:String}} = '' OR prompt_version = {{prompt_version:String}})
ORDER BY cityHash64(event_id), event_id
LIMIT {{limit:UInt32}}
"""

# Drift methods whose params carry the reference range the worker compared with.
EMBEDDING_METHODS = ("mmd", "centroid_cosine", "centroid_euclidean")


class Reader(Protocol):
    def query(
        self, sql: str, parameters: dict[str, Any] | None = None
    ) -> tuple[list[str], list]: ...


@dataclass(frozen=True, slots=True, order=True)
class Stream:
    """A stream key within the app: model, and prompt version when streams are split by it."""

    model: str
    prompt_version: str = ""

    def __str__(self) -> str:
        return f"{self.model}@{self.prompt_version}" if self.prompt_version else self.model


@dataclass(frozen=True)
class Reference:
    start: datetime
    end: datetime
    policy: str  # first_k | trailing | pinned, or "first window" when no drift row says


@dataclass(frozen=True)
class Sample:
    """Embedded rows: reference rows first per stream, then window rows, no event twice."""

    event_ids: list[str]
    timestamps: list[datetime]
    window_starts: list[datetime]
    streams: list[Stream]
    texts: list[str]
    vectors: NDArray[np.float64]
    is_reference: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.event_ids)


@dataclass(frozen=True)
class ReportData:
    app: str
    start: datetime
    end: datetime
    field: str
    drift: list[dict[str, Any]]
    metrics: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    references: dict[Stream, Reference]
    sample: Sample
    per_window: int  # rows per window the sample was capped at


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(value: str, now: datetime, name: str = "since") -> datetime:
    """``24h``, ``90m``, ``7d``, ``2w``, ``30s`` before ``now``, or an RFC 3339 time (UTC if
    no offset). A bad value raises :class:`ConfigError` naming ``name``."""
    match = _DURATION.match(value)
    if match:
        return now - timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2]])
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(name, f"{value!r} is neither a duration (24h, 90m, 7d) nor RFC 3339"
                          ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def as_datetime(value: Any) -> datetime:
    """A UTC datetime from a store value (datetime) or an API value (ISO string)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def as_float(value: Any) -> float:
    return math.nan if value is None else float(value)


def sql_time(moment: datetime) -> str:
    """A UTC time as ClickHouse parses a ``DateTime64(3, 'UTC')`` parameter; a string, so
    the parameters travel as JSON to a worker's API too."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _query(reader: Reader, sql: str, parameters: dict[str, Any]) -> tuple[list[str], list]:
    return reader.query(sql, {k: sql_time(v) if isinstance(v, datetime) else v
                              for k, v in parameters.items()})


def _records(reader: Reader, sql: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    columns, rows = _query(reader, sql, parameters)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def load_report_data(
    reader: Reader,
    app: str,
    start: datetime,
    end: datetime,
    settings: Settings | None = None,
    *,
    field: str = "prompt",
    per_window: int = 200,
    max_rows: int = 8000,
) -> ReportData:
    """Everything the report shows for ``app`` in [start, end).

    A window keeps at least the rows the worker would test (``min_window_events``), a
    reference as many as the worker samples (``reference_sample``); ``settings`` are the
    worker's (its defaults when None).
    """
    settings = settings or Settings()
    min_per_window, reference_rows = settings.min_window_events, settings.reference_sample
    if field not in ("prompt", "completion"):
        raise ConfigError("field", f"must be prompt or completion, got {field!r}")
    window = {"app": app, "start": start, "end": end}
    drift = [_drift_record(r) for r in _records(reader, DRIFT_SQL, window)]
    metrics = [_metric_record(r) for r in _records(reader, METRICS_SQL, window)]
    alerts = [_alert_record(r) for r in _records(reader, ALERTS_SQL, window)]

    sampled = {**window, "field": field}
    _, groups = _query(reader, SAMPLE_GROUPS_SQL, sampled)
    # Many windows share the row budget, but a window keeps enough rows to be tested.
    cap = max(min_per_window, min(per_window, max_rows // max(len(groups), 1)))
    _, rows = _query(reader, SAMPLE_SQL, {**sampled, "per_window": cap})

    split = any(r["prompt_version"] for r in drift)
    references = _references(drift, field, split)
    streams = {Stream(r[3], r[4] if split else "") for r in rows}
    for stream in sorted(streams - references.keys()):
        first = min(as_datetime(r[2]) for r in rows if _stream(r, split) == stream)
        length = _window_length(metrics, drift, timedelta(seconds=settings.window_seconds))
        references[stream] = Reference(first, first + length, "first window")
    reference_rows_by_stream = {
        stream: _query(reader, REFERENCE_SQL, {
            "app": app, "field": field, "model": stream.model,
            "prompt_version": stream.prompt_version, "start": ref.start, "end": ref.end,
            "limit": reference_rows,
        })[1]
        for stream, ref in sorted(references.items())
    }
    sample = _sample(rows, reference_rows_by_stream, references, split)
    return ReportData(app, start, end, field, drift, metrics, alerts, references, sample, cap)


def _stream(row: Sequence[Any], split: bool) -> Stream:
    return Stream(row[3], row[4] if split else "")


def _window_length(
    metrics: list[dict[str, Any]], drift: list[dict[str, Any]], configured: timedelta
) -> timedelta:
    """A stored window's length, or the configured one when nothing is stored."""
    for record in [*metrics, *drift]:
        return record["window_end"] - record["window_start"]
    return configured


def _references(
    drift: list[dict[str, Any]], field: str, split: bool
) -> dict[Stream, Reference]:
    """The newest reference range per stream that the worker named in its drift rows."""
    found: dict[Stream, Reference] = {}
    for record in drift:  # ordered by window_start: later rows replace earlier ones
        params = record["params"]
        if record["field"] != field or record["method"] not in EMBEDDING_METHODS:
            continue
        if "reference_start" not in params:
            continue
        stream = Stream(record["model"], record["prompt_version"] if split else "")
        found[stream] = Reference(as_datetime(params["reference_start"]),
                                  as_datetime(params["reference_end"]),
                                  str(params.get("reference_policy", "")))
    return found


def _sample(
    rows: list[list[Any]], reference_rows: dict[Stream, list[list[Any]]],
    references: dict[Stream, Reference], split: bool,
) -> Sample:
    ordered: list[tuple[list[Any], Stream, bool]] = []
    seen: set[str] = set()
    for stream, ref_rows in reference_rows.items():
        for row in ref_rows:
            if row[0] not in seen:
                seen.add(row[0])
                ordered.append((row, stream, True))
    for row in rows:
        stream = _stream(row, split)
        if row[0] in seen or stream not in references:
            continue
        seen.add(row[0])
        ref = references[stream]
        ordered.append((row, stream, ref.start <= as_datetime(row[1]) < ref.end))
    vectors = (np.array([np.asarray(r[6], dtype=np.float64) for r, _, _ in ordered])
               if ordered else np.zeros((0, 0)))
    return Sample(
        event_ids=[r[0] for r, _, _ in ordered],
        timestamps=[as_datetime(r[1]) for r, _, _ in ordered],
        window_starts=[as_datetime(r[2]) for r, _, _ in ordered],
        streams=[s for _, s, _ in ordered],
        texts=[str(r[5]) for r, _, _ in ordered],
        vectors=vectors,
        is_reference=np.array([flag for _, _, flag in ordered], dtype=bool),
    )


def _drift_record(record: dict[str, Any]) -> dict[str, Any]:
    params = record["params"]
    return {
        **record,
        "window_start": as_datetime(record["window_start"]),
        "window_end": as_datetime(record["window_end"]),
        "statistic": as_float(record["statistic"]),
        "p_value": as_float(record["p_value"]),
        "threshold": as_float(record["threshold"]),
        "alpha": as_float(record["alpha"]),
        "drifted": bool(record["drifted"]),
        "min_detectable_effect": as_float(record["min_detectable_effect"]),
        "params": json.loads(params) if isinstance(params, str) and params else {},
    }


def _metric_record(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: as_float(v) if k not in ("model", "prompt_version", "window_start", "window_end")
           else v for k, v in record.items()}
    out["window_start"] = as_datetime(record["window_start"])
    out["window_end"] = as_datetime(record["window_end"])
    return out


def _alert_record(record: dict[str, Any]) -> dict[str, Any]:
    return {
        **record,
        "transition_at": as_datetime(record["transition_at"]),
        "window_start": as_datetime(record["window_start"]),
        "window_end": as_datetime(record["window_end"]),
        "value": as_float(record["value"]),
        "annotations": dict(record["annotations"] or {}),
    }
