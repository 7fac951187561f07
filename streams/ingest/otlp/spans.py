"""Flatten a decoded request into one :class:`SpanRecord` per span, attributes as Python values.

The GenAI mapping wants each span with its resource and scope beside it and its attributes
as a plain ``dict``; this module does that walk once, for both encodings.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from streams.ingest.otlp.model import AnyValue, ExportTraceServiceRequest, KeyValue

STATUS_ERROR = 2
_STATUS_NAMES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": STATUS_ERROR}


@dataclass(frozen=True, slots=True)
class EventRecord:
    name: str
    time_unix_nano: int
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SpanRecord:
    """One span with its resource's and scope's identity; ids lowercase hex."""

    resource: dict[str, Any]
    scope_name: str
    scope_version: str
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    attributes: dict[str, Any]
    events: tuple[EventRecord, ...]
    status_code: int
    status_message: str


def iter_spans(request: ExportTraceServiceRequest) -> Iterator[SpanRecord]:
    for resource_spans in request.resource_spans:
        resource = resource_spans.resource
        resource_attrs = attributes(resource.attributes) if resource else {}
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            for span in scope_spans.spans:
                status = span.status
                yield SpanRecord(
                    resource=resource_attrs,
                    scope_name=scope.name if scope else "",
                    scope_version=scope.version if scope else "",
                    trace_id=span.trace_id.lower(),
                    span_id=span.span_id.lower(),
                    parent_span_id=span.parent_span_id.lower(),
                    name=span.name,
                    start_time_unix_nano=span.start_time_unix_nano,
                    end_time_unix_nano=span.end_time_unix_nano,
                    attributes=attributes(span.attributes),
                    events=tuple(
                        EventRecord(e.name, e.time_unix_nano, attributes(e.attributes))
                        for e in span.events
                    ),
                    status_code=enum_value(status.code, _STATUS_NAMES) if status else 0,
                    status_message=status.message if status else "",
                )


def enum_value(value: int | str, names: dict[str, int]) -> int:
    """An enum written as a number, a numeric string or its name; unknown names read as 0."""
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except ValueError:
        return names.get(value, 0)


def attributes(pairs: list[KeyValue]) -> dict[str, Any]:
    """Key-value pairs as a dict (a repeated key keeps its last value, as the SDKs do)."""
    return {kv.key: any_value(kv.value) for kv in pairs}


def any_value(value: AnyValue | None) -> Any:
    """An ``AnyValue`` as Python: str, bool, int, float, list, dict, base64 text or ``None``."""
    if value is None:
        return None
    if value.string_value is not None:
        return value.string_value
    if value.bool_value is not None:
        return value.bool_value
    if value.int_value is not None:
        return value.int_value
    if value.double_value is not None:
        return value.double_value
    if value.array_value is not None:
        return [any_value(v) for v in value.array_value.values]
    if value.kvlist_value is not None:
        return attributes(value.kvlist_value.values)
    if value.bytes_value is not None:
        # Base64 as in OTLP/JSON, so the value stays JSON-safe for metadata.
        return base64.b64encode(value.bytes_value).decode("ascii")
    return None
