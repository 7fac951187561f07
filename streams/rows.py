"""Valid events to ClickHouse rows, with the per-event derived fields."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from schemas.events import FeedbackEvent, TraceEvent
from streams.pricing import PriceTable
from streams.signals import EventSignals, SignalScanner


def output_tokens_per_second(event: TraceEvent) -> float | None:
    """Completion tokens over generation time; time-to-first-token is excluded when known."""
    if not event.completion_tokens:
        return None
    generation_ms = event.latency_ms - (event.ttft_ms or 0.0)
    if generation_ms <= 0:
        generation_ms = event.latency_ms
    if generation_ms <= 0:
        return None
    return event.completion_tokens / (generation_ms / 1000.0)


def total_tokens(event: TraceEvent) -> int | None:
    if event.prompt_tokens is None and event.completion_tokens is None:
        return None
    return (event.prompt_tokens or 0) + (event.completion_tokens or 0)


def event_row(
    event: TraceEvent,
    ingested_at: datetime,
    prices: PriceTable,
    signals: EventSignals,
    source: str = "trace",
) -> tuple[Any, ...]:
    """One row in ``schemas.tables.EVENT_COLUMNS`` order; texts as the redaction left them."""
    return (
        event.event_id,
        event.event_time,
        ingested_at,
        event.app,
        event.model,
        event.environment or "",
        event.provider or "",
        source,
        event.status or ("error" if event.error_type else "ok"),
        event.error_type or "",
        event.latency_ms,
        event.ttft_ms,
        event.prompt_tokens,
        event.completion_tokens,
        total_tokens(event),
        output_tokens_per_second(event),
        prices.cost(event.model, event.prompt_tokens, event.completion_tokens),
        signals.prompt,
        signals.completion,
        event.prompt_template or "",
        event.prompt_version or "",
        event.temperature,
        event.conversation_id or "",
        event.trace_id or "",
        event.span_id or "",
        event.parent_span_id or "",
        event.chain_step or "",
        event.step_index,
        event.user_id or "",
        signals.reference,
        event.metadata_strings(),
        signals.toxicity_prompt,
        signals.toxicity_completion,
        signals.injection_score,
        signals.refusal,
        signals.pii_counts,
        signals.secret_counts,
    )


def trace_rows(
    events: Sequence[TraceEvent],
    ingested_at: datetime,
    prices: PriceTable,
    scanner: SignalScanner,
    source: str = "trace",
) -> list[tuple[Any, ...]]:
    """Rows of a batch of valid trace events, scanned and redacted together."""
    signals = scanner.scan(events)
    return [event_row(e, ingested_at, prices, s, source)
            for e, s in zip(events, signals, strict=True)]


def feedback_row(event: FeedbackEvent, ingested_at: datetime) -> tuple[Any, ...]:
    return (
        event.event_id,
        event.event_time,
        ingested_at,
        event.value,
        event.score,
        event.thumb or "",
        event.comment or "",
        event.source or "",
    )
