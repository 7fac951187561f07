"""Table and column names shared by the worker, the CLI and the Grafana dashboards."""

from __future__ import annotations

EVENTS = "events"
FEEDBACK = "feedback"

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
