"""Table and column names shared by the worker, the CLI and the Grafana dashboards."""

from __future__ import annotations

EVENTS = "events"
FEEDBACK = "feedback"
DRIFT = "drift"
WINDOW_METRICS = "window_metrics"
EMBEDDINGS = "embeddings"
ALERTS = "alerts"
BASELINES = "baselines"

EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "timestamp",
    "ingested_at",
    "app",
    "model",
    "environment",
    "provider",
    "source",
    "status",
    "error_type",
    "latency_ms",
    "ttft_ms",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "output_tokens_per_s",
    "cost_usd",
    "prompt",
    "completion",
    "prompt_template",
    "prompt_version",
    "temperature",
    "conversation_id",
    "trace_id",
    "span_id",
    "parent_span_id",
    "chain_step",
    "step_index",
    "user_id",
    "reference",
    "metadata",
    "toxicity_prompt",
    "toxicity_completion",
    "injection_score",
    "refusal",
    "pii_counts",
    "secret_counts",
)

FEEDBACK_COLUMNS: tuple[str, ...] = (
    "event_id",
    "timestamp",
    "ingested_at",
    "value",
    "score",
    "thumb",
    "comment",
    "source",
)

DRIFT_COLUMNS: tuple[str, ...] = (
    "window_start", "window_end", "app", "model", "prompt_version", "field", "method",
    "statistic", "p_value", "threshold", "drifted", "n_ref", "n_test", "alpha", "n_events",
    "sampled_fraction", "params", "computed_at", "changed_clusters",
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
    "negative_feedback", "negative_feedback_rate",
)
