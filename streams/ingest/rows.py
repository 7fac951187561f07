"""Valid events to ClickHouse rows, with the per-event derived fields."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from detectors.scanners.redaction import Redactor
from schemas.events import FeedbackEvent, TraceEvent
from streams.ingest.pricing import PriceTable
from streams.ingest.scan import EventScan, EventScanner


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
    signals: EventScan,
    source: str = "trace",
) -> tuple[Any, ...]:
    """One row in ``schemas.tables.EVENT_COLUMNS`` order; every text as the redaction left it.

    ``event_id`` is stored as sent: it is the producer's idempotency key and what feedback
    names its trace by, an opaque id the contract asks apps for, not text about anyone.
    """
    (app, model, environment, provider, error_type, prompt_template, prompt_version,
     conversation_id, trace_id, span_id, parent_span_id, chain_step) = signals.fields
    return (
        event.event_id,
        event.event_time,
        ingested_at,
        app,
        model,
        environment,
        provider,
        source,
        event.status or ("error" if event.error_type else "ok"),
        error_type,
        event.latency_ms,
        event.ttft_ms,
        event.prompt_tokens,
        event.completion_tokens,
        total_tokens(event),
        output_tokens_per_second(event),
        prices.cost(event.model, event.prompt_tokens, event.completion_tokens),
        signals.prompt,
        signals.completion,
        prompt_template,
        prompt_version,
        event.temperature,
        conversation_id,
        trace_id,
        span_id,
        parent_span_id,
        chain_step,
        event.step_index,
        signals.user_id,
        signals.reference,
        signals.metadata,
        signals.toxicity_prompt,
        signals.toxicity_completion,
        signals.injection_score,
        signals.refusal,
        signals.pii_counts,
        signals.secret_counts,
        signals.completion_leaks,
        signals.embedded_prompt,
    )


OTLP_REPLAY_HORIZON = timedelta(days=1)
"""How far before its storage an OTLP row's ``ingested_at`` may be set (see :func:`version`)."""


def version(event: TraceEvent, ingested_at: datetime, source: str) -> datetime:
    """The ``ingested_at`` a row is stored under: the table's version, the newest row wins.

    An OTLP span's row is versioned by the span's end instead (within
    :data:`OTLP_REPLAY_HORIZON` of now): the content its log records fill in later
    (:mod:`streams.ingest.log_join`) is written under the time of the fill, so a span replayed
    after a crash, up to a day on, cannot replace the filled row with its bare one. Retention
    counts from ``ingested_at``, so it may count from up to a day before the row was stored.
    """
    if source != "otlp":
        return ingested_at
    end = event.event_time + timedelta(milliseconds=event.latency_ms)
    return min(ingested_at, max(end, ingested_at - OTLP_REPLAY_HORIZON))


def trace_rows(
    events: Sequence[TraceEvent],
    ingested_at: datetime,
    prices: PriceTable,
    scanner: EventScanner,
    source: str = "trace",
) -> list[tuple[Any, ...]]:
    """Rows of a batch of valid trace events, scanned and redacted together."""
    signals = scanner.scan(events)
    return [event_row(e, version(e, ingested_at, source), prices, s, source)
            for e, s in zip(events, signals, strict=True)]


def feedback_row(event: FeedbackEvent, ingested_at: datetime, redactor: Redactor
                 ) -> tuple[Any, ...]:
    """One row in ``schemas.tables.FEEDBACK_COLUMNS`` order, comment and source redacted
    (``event_id`` as sent: the trace's, see :func:`event_row`). The feedback table has no count
    columns: what the comment holds is redacted but counted nowhere."""
    return (
        event.event_id,
        event.event_time,
        ingested_at,
        event.value,
        event.score,
        event.thumb or "",
        redactor(event.comment) if event.comment else "",
        redactor(event.source) if event.source else "",
    )
