"""Table and column names shared by the worker, the CLI and the Grafana dashboards."""

from __future__ import annotations

EVENTS = "events"
FEEDBACK = "feedback"
DRIFT = "drift"
WINDOW_METRICS = "window_metrics"
EMBEDDINGS = "embeddings"
ALERTS = "alerts"
BASELINES = "baselines"
DEPLOYMENT_SECRETS = "deployment_secrets"  # the generated redaction salt: never served

# The column each table's retention (settings ``retention_days_<table>``) counts from: when
# Seismo stored or computed the row, not the event time, so a backfill of old traffic is kept
# for the retention period instead of vanishing at the next merge. Tables left out (baselines,
# alert_states, deployment_secrets) are state a worker reads back, kept until replaced.
RETENTION_COLUMNS: dict[str, str] = {
    EVENTS: "ingested_at",
    FEEDBACK: "ingested_at",
    EMBEDDINGS: "ingested_at",
    WINDOW_METRICS: "computed_at",
    DRIFT: "computed_at",
    ALERTS: "stored_at",
}
# Tables whose rows belong to one trace event (by its event_id): `seismo forget` deletes a
# user's rows from each of them as well as from events. A new per-event table (judge scores,
# ...) is added here, and tests/streams/store/test_forget.py fails until it is.
EVENT_DATA_TABLES: tuple[str, ...] = (FEEDBACK, EMBEDDINGS)

# The columns the ingest path writes, in the order its rows hold them, with the types the
# migrations (schemas/clickhouse) give them: the ingest processes encode rows to ClickHouse's
# Native format with these types (streams.store.native); tests/streams/store/test_native.py checks
# them
# against DESCRIBE TABLE on a migrated store.
EVENT_SCHEMA: tuple[tuple[str, str], ...] = (
    ("event_id",            "String"),
    ("timestamp",           "DateTime64(3, 'UTC')"),
    ("ingested_at",         "DateTime64(3, 'UTC')"),
    ("app",                 "LowCardinality(String)"),
    ("model",               "LowCardinality(String)"),
    ("environment",         "LowCardinality(String)"),
    ("provider",            "LowCardinality(String)"),
    ("source",              "LowCardinality(String)"),
    ("status",              "LowCardinality(String)"),
    ("error_type",          "LowCardinality(String)"),
    ("latency_ms",          "Float64"),
    ("ttft_ms",             "Nullable(Float64)"),
    ("prompt_tokens",       "Nullable(UInt32)"),
    ("completion_tokens",   "Nullable(UInt32)"),
    ("total_tokens",        "Nullable(UInt32)"),
    ("output_tokens_per_s", "Nullable(Float64)"),
    ("cost_usd",            "Nullable(Float64)"),
    ("prompt",              "String"),
    ("completion",          "String"),
    ("prompt_template",     "String"),
    ("prompt_version",      "LowCardinality(String)"),
    ("temperature",         "Nullable(Float32)"),
    ("conversation_id",     "String"),
    ("trace_id",            "String"),
    ("span_id",             "String"),
    ("parent_span_id",      "String"),
    ("chain_step",          "String"),
    ("step_index",          "Nullable(UInt32)"),
    ("user_id",             "String"),
    ("reference",           "String"),
    ("metadata",            "Map(String, String)"),
    ("toxicity_prompt",     "Float32"),
    ("toxicity_completion", "Float32"),
    ("injection_score",     "Float32"),
    ("refusal",             "Bool"),
    ("pii_counts",          "Map(String, UInt32)"),
    ("secret_counts",       "Map(String, UInt32)"),
    ("completion_leaks",    "UInt16"),
    ("embedded_prompt",     "String"),
)
EVENT_COLUMNS: tuple[str, ...] = tuple(name for name, _ in EVENT_SCHEMA)

FEEDBACK_SCHEMA: tuple[tuple[str, str], ...] = (
    ("event_id",    "String"),
    ("timestamp",   "DateTime64(3, 'UTC')"),
    ("ingested_at", "DateTime64(3, 'UTC')"),
    ("value",       "Float32"),
    ("score",       "Nullable(Float32)"),
    ("thumb",       "LowCardinality(String)"),
    ("comment",     "String"),
    ("source",      "LowCardinality(String)"),
)
FEEDBACK_COLUMNS: tuple[str, ...] = tuple(name for name, _ in FEEDBACK_SCHEMA)

# The verdicts of a drift row (its ``verdict`` column, migration 014): the test rejected; it did
# not, with power enough to detect the configured minimum effect; or it did not and could not
# have (too few events: detectors/drift/power.py). ``drifted`` stays the test's decision.
DRIFT_VERDICT = "drift"
NO_DRIFT_VERDICT = "no_drift"
INSUFFICIENT_DATA_VERDICT = "insufficient_data"
DRIFT_COLUMNS: tuple[str, ...] = (
    "window_start", "window_end", "app", "model", "prompt_version", "field", "method",
    "statistic", "p_value", "threshold", "drifted", "n_ref", "n_test", "alpha", "n_events",
    "sampled_fraction", "params", "computed_at", "changed_clusters", "min_detectable_effect",
    "verdict",
)
EMBEDDING_COLUMNS: tuple[str, ...] = (
    "event_id", "timestamp", "window_start", "app", "model", "prompt_version", "field", "text",
    "embedding", "ingested_at", "cluster", "x", "y",
)
WINDOW_METRIC_COLUMNS: tuple[str, ...] = (
    "window_start", "window_end", "app", "model", "prompt_version", "events", "errors",
    "error_rate", "errors_by_type", "empty_completions", "refusals", "refusal_rate",
    "latency_p50", "latency_p90", "latency_p95", "latency_p99", "ttft_p50", "ttft_p90",
    "ttft_p95", "ttft_p99", "output_tokens_per_s", "prompt_tokens", "completion_tokens",
    "total_tokens", "mean_total_tokens", "cost_usd", "mean_cost_usd", "toxic_events",
    "toxicity_rate", "toxicity_mean", "pii_events", "pii_rate", "pii_counts", "secret_events",
    "secret_counts", "injection_events", "injection_rate", "computed_at", "feedback_events",
    "negative_feedback", "negative_feedback_rate", "leak_events", "leak_rate",
)
