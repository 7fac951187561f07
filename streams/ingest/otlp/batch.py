"""One Kafka record from the Collector's kafka exporter to the trace events it carries.

A record is one ``ExportTraceServiceRequest`` holding many spans. A record that cannot be
read at all is a :class:`~streams.ingest.decode.Rejected` for the DLQ; a readable record gives an
:class:`OtlpBatch` even when some of its spans are not model calls (skipped, counted) or are
GenAI spans that fail the trace-event contract (rejected one by one, the rest kept).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec

from schemas.events import TraceEvent
from streams.ingest.decode import EMPTY, FUTURE_TIMESTAMP, TOO_LARGE, Rejected
from streams.ingest.otlp import json_decode, proto_decode
from streams.ingest.otlp.exceptions import OtlpFormatError, SpanMappingError
from streams.ingest.otlp.genai import CALL, SKIP, classify, to_event_dict
from streams.ingest.otlp.model import ExportTraceServiceRequest
from streams.ingest.otlp.spans import SpanRecord, iter_spans

Encoding = Literal["otlp_json", "otlp_proto", "auto"]
ENCODINGS: tuple[str, ...] = ("otlp_json", "otlp_proto", "auto")

INVALID_JSON = json_decode.INVALID_JSON
INVALID_PROTO = proto_decode.INVALID_PROTO
SCHEMA = json_decode.SCHEMA
SPAN_SCHEMA = "otlp_span_schema"
UNMAPPED = "otlp_unmapped"


@dataclass(slots=True)
class OtlpBatch:
    """The trace events of one record, and what happened to its other spans.

    ``skipped`` counts the spans that are not model calls by kind (``chain``, ``tool``,
    ``invoke_agent``, ``workflow``, ``other`` for HTTP or database spans); ``rejected_spans``
    holds one :class:`Rejected` per model-call span that could not become a valid trace event
    (reason ``otlp_span_schema``, ``timestamp_in_future``, or ``otlp_unmapped`` for one that
    looks like a model call but names no model).
    """

    events: list[TraceEvent] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    rejected_spans: list[Rejected] = field(default_factory=list)


def decode_otlp(
    raw: bytes | None,
    encoding: Encoding = "auto",
    *,
    max_bytes: int | None = None,
    now: datetime | None = None,
    max_future_skew: timedelta | None = None,
) -> OtlpBatch | Rejected:
    """Decode one exporter record; never raises on bad input.

    Parameters
    ----------
    raw
        The record value.
    encoding
        The exporter's ``encoding``; ``"auto"`` reads a value starting with ``{`` as JSON and
        anything else as protobuf (a protobuf ExportTraceServiceRequest starts with the tag
        byte 0x0A; ``{`` would be a deprecated group tag OTLP never uses).
    max_bytes
        Reject larger records as ``too_large`` (``None``: no limit).
    now, max_future_skew
        When ``max_future_skew`` is given, spans starting more than that after ``now``
        (default: the current time) are rejected as ``timestamp_in_future``.
    """
    request = read_request(raw, encoding, max_bytes)
    if isinstance(request, Rejected):
        return request
    latest = None
    if max_future_skew is not None:
        latest = (now or datetime.now(UTC)) + max_future_skew
    batch = OtlpBatch()
    for span in iter_spans(request):
        found = classify(span)
        if found.verdict == SKIP:
            batch.skipped[found.label] += 1
            continue
        if found.verdict != CALL:
            batch.rejected_spans.append(Rejected(UNMAPPED, found.label))
            continue
        result = _event(found.span, latest)
        if isinstance(result, Rejected):
            batch.rejected_spans.append(result)
        else:
            batch.events.append(result)
    return batch


def read_request(raw: bytes | None, encoding: Encoding, max_bytes: int | None,
                 root: type = ExportTraceServiceRequest) -> Any:
    """One exporter record as its ``root`` request (traces by default), or why not."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
    if not raw:
        return Rejected(EMPTY, "the record has no value")
    if max_bytes is not None and len(raw) > max_bytes:
        return Rejected(TOO_LARGE, f"{len(raw)} bytes > max_event_bytes {max_bytes}")
    if encoding == "auto":
        encoding = "otlp_json" if raw[:1] == b"{" else "otlp_proto"
    try:
        if encoding == "otlp_json":
            return json_decode.decode_request(raw, root)
        return proto_decode.decode_request(raw, root)
    except OtlpFormatError as exc:
        return Rejected(exc.reason, exc.detail)


def _event(span: SpanRecord, latest: datetime | None) -> TraceEvent | Rejected:
    try:
        event = msgspec.convert(to_event_dict(span), TraceEvent, strict=False)
    except SpanMappingError as exc:
        return Rejected(SPAN_SCHEMA, str(exc))
    except msgspec.ValidationError as exc:
        return Rejected(SPAN_SCHEMA, f"span {span.trace_id}:{span.span_id}: {exc}")
    if latest is not None and event.event_time > latest:
        return Rejected(
            FUTURE_TIMESTAMP,
            f"span {event.event_id} starts at {event.event_time.isoformat()}, "
            f"after {latest.isoformat()} (worker clock + max_future_skew)",
        )
    return event
