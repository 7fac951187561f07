"""Every SQL string Grafana runs against Seismo's tables: panels, variables and alert rules.

Each query declares its result columns in order, which the tests check against ClickHouse.
Conventions:

* Every table is a ReplacingMergeTree and is read with ``FINAL``, so a replayed record or a
  recomputed window counts once.
* Time series queries return ``time`` first, then string label columns, then numbers, sorted
  by time (the plugin turns the long rows into one series per label set).
* Rates are ratios of counts summed over windows, never means of per-window rates, so a busy
  window weighs as much as its events. Window quantiles cannot be merged exactly; panels show
  their events-weighted mean.
* Drill-down queries restrict to the multi-value variables ``${app}`` and ``${model}``, which
  the plugin expands to quoted lists.
"""

from __future__ import annotations

from dataclasses import dataclass

from grafana.clickhouse_query import ClickHouseQuery, QueryFormat
from schemas.tables import (
    ALERTS,
    DRIFT,
    EMBEDDINGS,
    EVENTS,
    FEEDBACK,
    INSUFFICIENT_DATA_VERDICT,
    WINDOW_METRICS,
)

TABLES = (EVENTS, FEEDBACK, DRIFT, WINDOW_METRICS, ALERTS, EMBEDDINGS)

TIME_SERIES = QueryFormat.TIME_SERIES
TABLE = QueryFormat.TABLE


@dataclass(frozen=True)
class SqlQuery:
    """A query and the columns its panel or rule expects back, in order."""

    sql: str
    format: QueryFormat
    columns: tuple[str, ...]

    def target(self, ref_id: str = "A") -> ClickHouseQuery:
        return ClickHouseQuery(ref_id=ref_id, raw_sql=self.sql, format=self.format)


# -- fragments -------------------------------------------------------------------------------
SELECTED = "app IN (${app}) AND model IN (${model})"
# A stream key as one series label, spelled as streams.windows.clock.StreamKey.label spells it:
# app/model, with @prompt_version when there is one (within one app's dashboard, without app/).
VERSIONED_MODEL = "concat(model, if(prompt_version = '', '', concat('@', prompt_version)))"
STREAM = f"concat(app, '/', {VERSIONED_MODEL})"
# The state of every alert as of the end of the range: its latest transition.
LATEST_ALERTS = f"""SELECT *
    FROM {ALERTS} FINAL
    WHERE transition_at <= $__toTime
    ORDER BY transition_at DESC
    LIMIT 1 BY fingerprint"""


def _bucket(column: str) -> str:
    return f"toStartOfInterval({column}, INTERVAL $__interval_s second)"


def _where(*conditions: str) -> str:
    return " AND ".join(c for c in conditions if c)


def _events_series(label: str, values: str, *conditions: str) -> str:
    """Per-interval aggregates of the events table, one series per ``label``."""
    return f"""SELECT {_bucket("timestamp")} AS time, {label}, {values}
FROM {EVENTS} FINAL
WHERE {_where("$__timeFilter(timestamp)", *conditions)}
GROUP BY time, {label}
ORDER BY time"""


def _window_series(label: str | None, values: str, *conditions: str) -> str:
    """Per-interval aggregates of closed windows, one series per ``label`` (or one in all)."""
    group = f"time, {label}" if label else "time"
    return f"""SELECT {_bucket("window_start")} AS time{f", {label}" if label else ""}, {values}
FROM {WINDOW_METRICS} FINAL
WHERE {_where("$__timeFilter(window_start)", "events > 0", *conditions)}
GROUP BY {group}
ORDER BY time"""


def _drift_series(series: str, value: str, *conditions: str) -> str:
    """One point per detector result, at the end of its window."""
    return f"""SELECT window_end AS time, {series} AS series, {value}
FROM {DRIFT} FINAL
WHERE {_where("$__timeFilter(window_end)", *conditions)}
ORDER BY time"""


def _weighted(column: str) -> str:
    return f"sum({column} * events) / sum(events)"


def _share(count_column: str) -> str:
    return f"sum({count_column}) / sum(events)"


_EVENTS_PER_S = "count() / $__interval_s AS events_per_s"
_ERROR_RATE = "countIf(status = 'error') / count() AS error_rate"
_TOKENS_AND_COST = (
    "sum(ifNull(total_tokens, 0)) / $__interval_s AS tokens_per_s, "
    "sum(ifNull(cost_usd, 0)) * 3600 / $__interval_s AS usd_per_hour"
)
_LATENCY_QUANTILES = ", ".join(
    f"{_weighted(f'latency_{q}')} AS {q}" for q in ("p50", "p95", "p99")
)
_MMD = "method = 'mmd'"

# -- overview: stats -------------------------------------------------------------------------
EVENT_RATE = SqlQuery(
    f"""SELECT count() / greatest(dateDiff('second', $__fromTime, $__toTime), 1) AS events_per_s
FROM {EVENTS} FINAL
WHERE $__timeFilter(timestamp)""",
    TABLE,
    ("events_per_s",),
)
ERROR_RATE = SqlQuery(
    f"""SELECT countIf(status = 'error') / greatest(count(), 1) AS error_rate
FROM {EVENTS} FINAL
WHERE $__timeFilter(timestamp)""",
    TABLE,
    ("error_rate",),
)
COST = SqlQuery(
    f"""SELECT ifNull(sum(cost_usd), 0) AS cost_usd
FROM {EVENTS} FINAL
WHERE $__timeFilter(timestamp)""",
    TABLE,
    ("cost_usd",),
)
FIRING_COUNT = SqlQuery(
    f"""SELECT count() AS firing
FROM ({LATEST_ALERTS})
WHERE state = 'firing'""",
    TABLE,
    ("firing",),
)

# -- overview: series and tables -------------------------------------------------------------
TRAFFIC_BY_APP = SqlQuery(
    _events_series("app", _EVENTS_PER_S), TIME_SERIES, ("time", "app", "events_per_s")
)
ERROR_RATE_BY_APP = SqlQuery(
    _events_series("app", _ERROR_RATE), TIME_SERIES, ("time", "app", "error_rate")
)
LATENCY_QUANTILES = SqlQuery(
    _window_series(None, _LATENCY_QUANTILES), TIME_SERIES, ("time", "p50", "p95", "p99")
)
TOKENS_AND_COST_BY_MODEL = SqlQuery(
    _events_series("model", _TOKENS_AND_COST),
    TIME_SERIES,
    ("time", "model", "tokens_per_s", "usd_per_hour"),
)
TOXICITY_BY_APP = SqlQuery(
    _window_series("app", f"{_share('toxic_events')} AS toxicity_rate"),
    TIME_SERIES,
    ("time", "app", "toxicity_rate"),
)
PII_AND_INJECTION_BY_APP = SqlQuery(
    _window_series(
        "app", f"{_share('pii_events')} AS pii_rate, {_share('leak_events')} AS leak_rate, "
        f"{_share('injection_events')} AS injection_rate"
    ),
    TIME_SERIES,
    ("time", "app", "pii_rate", "leak_rate", "injection_rate"),
)
DRIFT_STATISTIC = SqlQuery(
    _drift_series(f"concat({STREAM}, ' ', field)", "statistic", _MMD),
    TIME_SERIES,
    ("time", "series", "statistic"),
)
DRIFT_P_VALUE = SqlQuery(
    _drift_series(f"concat({STREAM}, ' ', field)", "p_value", _MMD),
    TIME_SERIES,
    ("time", "series", "p_value"),
)
# The smallest share of a window moving to a new topic that its sample could detect (power
# 0.8 at the test's alpha; detectors/drift/power.py): where it is above the configured minimum
# effect the window's verdict is insufficient_data, not no_drift. NaN for the scalar tests.
_CALIBRATED = "isFinite(min_detectable_effect)"
DRIFT_MIN_DETECTABLE_EFFECT = SqlQuery(
    _drift_series(f"concat({STREAM}, ' ', field)", "min_detectable_effect", _MMD, _CALIBRATED),
    TIME_SERIES,
    ("time", "series", "min_detectable_effect"),
)
FIRING_ALERTS = SqlQuery(
    f"""SELECT fingerprint, rule, severity, app, model, value, starts_at, transition_at
FROM ({LATEST_ALERTS})
WHERE state = 'firing'
ORDER BY starts_at DESC""",
    TABLE,
    ("fingerprint", "rule", "severity", "app", "model", "value", "starts_at", "transition_at"),
)

# -- drill-down: variables -------------------------------------------------------------------
APP_VARIABLE = SqlQuery(
    f"SELECT DISTINCT app FROM {WINDOW_METRICS} FINAL ORDER BY app", TABLE, ("app",)
)
MODEL_VARIABLE = SqlQuery(
    f"SELECT DISTINCT model FROM {WINDOW_METRICS} FINAL WHERE app IN (${{app}}) ORDER BY model",
    TABLE,
    ("model",),
)

# -- drill-down: panels ----------------------------------------------------------------------
APP_TRAFFIC = SqlQuery(
    _events_series("model", _EVENTS_PER_S, SELECTED), TIME_SERIES, ("time", "model", "events_per_s")
)
APP_ERRORS_BY_TYPE = SqlQuery(
    _events_series("error_type", _EVENTS_PER_S, SELECTED, "status = 'error'"),
    TIME_SERIES,
    ("time", "error_type", "events_per_s"),
)
APP_ERROR_RATE = SqlQuery(
    _events_series("model", _ERROR_RATE, SELECTED), TIME_SERIES, ("time", "model", "error_rate")
)
APP_LATENCY = SqlQuery(
    _window_series("model", _LATENCY_QUANTILES, SELECTED),
    TIME_SERIES,
    ("time", "model", "p50", "p95", "p99"),
)
APP_TTFT_AND_THROUGHPUT = SqlQuery(
    _window_series(
        "model",
        f"{_weighted('ttft_p95')} AS ttft_p95, "
        f"{_weighted('output_tokens_per_s')} AS output_tokens_per_s",
        SELECTED,
    ),
    TIME_SERIES,
    ("time", "model", "ttft_p95", "output_tokens_per_s"),
)
APP_TOKENS_AND_COST = SqlQuery(
    _events_series("model", _TOKENS_AND_COST, SELECTED),
    TIME_SERIES,
    ("time", "model", "tokens_per_s", "usd_per_hour"),
)
APP_SIGNAL_RATES = SqlQuery(
    _window_series(
        None,
        ", ".join(
            f"{_share(count)} AS {rate}"
            for count, rate in (
                ("toxic_events", "toxicity_rate"),
                ("pii_events", "pii_rate"),
                ("leak_events", "leak_rate"),
                ("injection_events", "injection_rate"),
                ("refusals", "refusal_rate"),
            )
        ),
        SELECTED,
    ),
    TIME_SERIES,
    ("time", "toxicity_rate", "pii_rate", "leak_rate", "injection_rate", "refusal_rate"),
)
APP_MMD_STATISTIC = SqlQuery(
    _drift_series("concat(model, ' ', field)", "statistic", SELECTED, _MMD),
    TIME_SERIES,
    ("time", "series", "statistic"),
)
APP_TEST_P_VALUES = SqlQuery(
    _drift_series(
        "concat(model, ' ', field, ' ', method)", "p_value", SELECTED, "isFinite(p_value)"
    ),
    TIME_SERIES,
    ("time", "series", "p_value"),
)
APP_DRIFT_COUNTS = SqlQuery(
    f"""SELECT {_bucket("window_end")} AS time, field, toFloat64(countIf(drifted)) AS drifted_tests,
    toFloat64(countIf(verdict = '{INSUFFICIENT_DATA_VERDICT}')) AS insufficient_data_tests
FROM {DRIFT} FINAL
WHERE $__timeFilter(window_end) AND {SELECTED}
GROUP BY time, field
ORDER BY time""",
    TIME_SERIES,
    ("time", "field", "drifted_tests", "insufficient_data_tests"),
)
APP_MIN_DETECTABLE_EFFECT = SqlQuery(
    _drift_series("concat(model, ' ', field)", "min_detectable_effect", SELECTED, _MMD,
                  _CALIBRATED),
    TIME_SERIES,
    ("time", "series", "min_detectable_effect"),
)
APP_DRIFTED_WINDOWS = SqlQuery(
    f"""SELECT window_start, window_end, model, prompt_version, field, method,
    statistic, p_value, threshold, alpha, n_ref, n_test
FROM {DRIFT} FINAL
WHERE $__timeFilter(window_end) AND {SELECTED} AND drifted
ORDER BY window_end DESC
LIMIT 200""",
    TABLE,
    (
        "window_start", "window_end", "model", "prompt_version", "field", "method",
        "statistic", "p_value", "threshold", "alpha", "n_ref", "n_test",
    ),
)
APP_LATENCY_VS_TOKENS = SqlQuery(
    # A fixed hash sample, so the scatter does not reshuffle on every refresh.
    f"""SELECT completion_tokens, latency_ms
FROM {EVENTS} FINAL
WHERE $__timeFilter(timestamp) AND {SELECTED} AND status = 'ok'
    AND completion_tokens IS NOT NULL
ORDER BY cityHash64(event_id)
LIMIT 2000""",
    TABLE,
    ("completion_tokens", "latency_ms"),
)
APP_TOPIC_PROJECTION = SqlQuery(
    # The worker's 2-D projection of the embedded sample, one series per stream, field and
    # topic cluster (the panel splits the rows by ``series``). Coordinates and cluster ids
    # belong to each stream's reference, so streams are not comparable on one picture. A
    # fixed hash sample, so the picture does not reshuffle on every refresh.
    f"""SELECT x, y,
    concat({VERSIONED_MODEL}, ' ', field,
           ' · cluster ', toString(cluster)) AS series
FROM {EMBEDDINGS} FINAL
WHERE $__timeFilter(timestamp) AND {SELECTED} AND cluster >= 0 AND isFinite(x)
ORDER BY cityHash64(event_id)
LIMIT 3000""",
    TABLE,
    ("x", "y", "series"),
)
APP_CLUSTER_SHARE = SqlQuery(
    f"""SELECT window_start, model, prompt_version, field, verdict, drifted, p_value, statistic,
    n_ref, n_test, min_detectable_effect, changed_clusters
FROM {DRIFT} FINAL
WHERE $__timeFilter(window_end) AND {SELECTED} AND method = 'cluster_share'
ORDER BY window_start DESC, model, field
LIMIT 200""",
    TABLE,
    (
        "window_start", "model", "prompt_version", "field", "verdict", "drifted", "p_value",
        "statistic", "n_ref", "n_test", "min_detectable_effect", "changed_clusters",
    ),
)
APP_FEEDBACK = SqlQuery(
    # Feedback arrives after its call: rated calls up to a day before the range still count.
    f"""SELECT {_bucket("f.timestamp")} AS time, e.model AS model, avg(f.value) AS mean_feedback
FROM {FEEDBACK} AS f FINAL
INNER JOIN
(
    SELECT event_id, model
    FROM {EVENTS} FINAL
    WHERE {SELECTED}
        AND timestamp >= $__fromTime - INTERVAL 1 DAY AND timestamp <= $__toTime
) AS e ON f.event_id = e.event_id
WHERE $__timeFilter(f.timestamp)
GROUP BY time, model
ORDER BY time""",
    TIME_SERIES,
    ("time", "model", "mean_feedback"),
)
APP_ALERT_TRANSITIONS = SqlQuery(
    f"""SELECT transition_at, rule, state, severity, model, value, window_start, window_end
FROM {ALERTS} FINAL
WHERE $__timeFilter(transition_at) AND app IN (${{app}})
ORDER BY transition_at DESC
LIMIT 200""",
    TABLE,
    ("transition_at", "rule", "state", "severity", "model", "value", "window_start", "window_end"),
)

# -- alert rules -----------------------------------------------------------------------------
# Table format: each row is one alert instance, labelled by its string columns.
RULE_LABELS = ("app", "model", "prompt_version")


def windows_held(
    table: str, condition: str, windows: int, filters: tuple[str, ...], value: str
) -> SqlQuery:
    """In how many of each stream's latest ``windows`` windows of ``table`` (``drift`` or
    ``window_metrics``) ``condition`` held, as the column ``value``. Equal to ``windows``
    exactly when it held in that many windows in a row. A window with
    several rows (several tests on one field) counts once, when any of them holds.
    """
    if windows < 1:
        raise ValueError(f"windows must be at least 1, got {windows!r}")
    return SqlQuery(
        f"""SELECT app, model, prompt_version, toFloat64(sum(held)) AS {value}
FROM
(
    SELECT app, model, prompt_version, window_end, max({condition}) AS held
    FROM {table} FINAL
    WHERE {_where("$__timeFilter(window_end)", *filters)}
    GROUP BY app, model, prompt_version, window_end
    ORDER BY window_end DESC
    LIMIT {windows} BY app, model, prompt_version
)
GROUP BY app, model, prompt_version""",
        TABLE,
        (*RULE_LABELS, value),
    )
