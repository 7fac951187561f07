"""The OTLP trace messages Seismo reads, as msgspec structs shared by both decoders.

Field names follow ``opentelemetry/proto/{collector/trace,trace,common,resource}/v1/*.proto``;
``rename="camel"`` gives the OTLP/JSON key names (``traceId``, ``startTimeUnixNano``). The
JSON decoder fills these in one validated pass; the protobuf decoder builds the same structs,
so everything downstream sees one model whatever the encoding. Fields Seismo does not use
(span kind, links, dropped counts, trace state, flags) are left out; both decoders skip them.

Representation choices, fixed here for both encodings:

- ids are hex strings, as OTLP/JSON writes them (protobuf bytes are hex-encoded on decode);
- 64-bit integers are ``int`` (OTLP/JSON writes them as strings; the JSON decoder runs
  with ``strict=False`` so ``"42"`` becomes ``42``);
- the status code is an ``int``, or the enum's name when a JSON producer wrote the name;
  :mod:`streams.ingest.otlp.spans` resolves both.
"""

from __future__ import annotations

import msgspec

# A JSON encoder may write an enum as its number or its name.
Enum = int | str


class _Message(msgspec.Struct, rename="camel", kw_only=True):
    """Base of every OTLP message struct."""


class AnyValue(_Message):
    """One attribute value; at most one field is set (an empty AnyValue is valid)."""

    string_value: str | None = None
    bool_value: bool | None = None
    int_value: int | None = None
    double_value: float | None = None
    array_value: ArrayValue | None = None
    kvlist_value: KeyValueList | None = None
    bytes_value: bytes | None = None


class ArrayValue(_Message):
    values: list[AnyValue] = []


class KeyValue(_Message):
    key: str = ""
    value: AnyValue | None = None


class KeyValueList(_Message):
    values: list[KeyValue] = []


class Resource(_Message):
    attributes: list[KeyValue] = []


class InstrumentationScope(_Message):
    name: str = ""
    version: str = ""


class Status(_Message):
    message: str = ""
    code: Enum = 0


class SpanEvent(_Message):
    """``Span.Event`` in the proto."""

    time_unix_nano: int = 0
    name: str = ""
    attributes: list[KeyValue] = []


class Span(_Message):
    trace_id: str = ""
    span_id: str = ""
    parent_span_id: str = ""
    name: str = ""
    start_time_unix_nano: int = 0
    end_time_unix_nano: int = 0
    attributes: list[KeyValue] = []
    events: list[SpanEvent] = []
    status: Status | None = None


class ScopeSpans(_Message):
    scope: InstrumentationScope | None = None
    spans: list[Span] = []


class ResourceSpans(_Message):
    resource: Resource | None = None
    scope_spans: list[ScopeSpans] = []


class LogRecord(_Message):
    """``LogRecord`` in ``logs.proto``: a GenAI event (``event_name``, or the older
    ``event.name`` attribute) whose ``body`` carries the message, tied to its span by ids."""

    time_unix_nano: int = 0
    observed_time_unix_nano: int = 0
    body: AnyValue | None = None
    attributes: list[KeyValue] = []
    trace_id: str = ""
    span_id: str = ""
    event_name: str = ""


class ScopeLogs(_Message):
    scope: InstrumentationScope | None = None
    log_records: list[LogRecord] = []


class ResourceLogs(_Message):
    resource: Resource | None = None
    scope_logs: list[ScopeLogs] = []


class ExportLogsServiceRequest(_Message):
    """A record of the kafka exporter's logs output (``resource_logs`` required, as above)."""

    resource_logs: list[ResourceLogs]


class ExportTraceServiceRequest(_Message):
    """What the Collector's kafka exporter writes as one record's value.

    ``resource_spans`` is required in JSON so that a record that is some other JSON object
    (a Seismo trace event on the wrong topic, say) is rejected instead of read as empty.
    """

    resource_spans: list[ResourceSpans]
