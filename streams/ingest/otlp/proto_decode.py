"""OTLP protobuf (the kafka exporter's ``otlp_proto`` encoding) to :mod:`streams.ingest.otlp.model`.

A table-driven reader over :mod:`streams.ingest.otlp.wire` instead of the ``opentelemetry-proto``
package: the Seismo worker needs 16 messages of a stable, versioned schema, and ~100 lines
avoid pulling protobuf's runtime (and its version pins) into every deployment. Field numbers
are those of opentelemetry-proto v1 (``trace.proto``, ``common.proto``, ``resource.proto``,
``trace_service.proto``, ``logs.proto``, ``logs_service.proto``). Unknown fields are skipped,
as a proto3 reader must, so payloads from newer Collectors still decode.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from streams.ingest.otlp import model
from streams.ingest.otlp.exceptions import OtlpFormatError
from streams.ingest.otlp.wire import I64, LEN, VARINT, WireError, iter_fields, to_int64

INVALID_PROTO = "otlp_invalid_proto"

# Nested messages allowed before the payload is called hostile: attribute values nest
# (arrays of key-value lists of arrays ...) and each level costs Python stack frames.
MAX_DEPTH = 100


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    kind: str | type  # a scalar kind below, or a model struct for a nested message
    repeated: bool = False

    @property
    def wire_type(self) -> int:
        if isinstance(self.kind, type):
            return LEN
        return _SCALAR_WIRE_TYPES[self.kind]


_SCALAR_WIRE_TYPES = {
    "string": LEN,
    "hex": LEN,  # a bytes id, kept as hex like OTLP/JSON
    "bytes": LEN,
    "int64": VARINT,  # also enums, which are int32 on the wire
    "bool": VARINT,
    "fixed64": I64,
    "double": I64,
}

_SCHEMA: dict[type, dict[int, _Field]] = {
    model.ExportTraceServiceRequest: {1: _Field("resource_spans", model.ResourceSpans, True)},
    model.ResourceSpans: {
        1: _Field("resource", model.Resource),
        2: _Field("scope_spans", model.ScopeSpans, True),
    },
    model.Resource: {1: _Field("attributes", model.KeyValue, True)},
    model.ScopeSpans: {
        1: _Field("scope", model.InstrumentationScope),
        2: _Field("spans", model.Span, True),
    },
    model.InstrumentationScope: {1: _Field("name", "string"), 2: _Field("version", "string")},
    model.Span: {
        1: _Field("trace_id", "hex"),
        2: _Field("span_id", "hex"),
        4: _Field("parent_span_id", "hex"),
        5: _Field("name", "string"),
        7: _Field("start_time_unix_nano", "fixed64"),
        8: _Field("end_time_unix_nano", "fixed64"),
        9: _Field("attributes", model.KeyValue, True),
        11: _Field("events", model.SpanEvent, True),
        15: _Field("status", model.Status),
    },
    model.SpanEvent: {
        1: _Field("time_unix_nano", "fixed64"),
        2: _Field("name", "string"),
        3: _Field("attributes", model.KeyValue, True),
    },
    model.Status: {2: _Field("message", "string"), 3: _Field("code", "int64")},
    # logs.proto and logs_service.proto
    model.ExportLogsServiceRequest: {1: _Field("resource_logs", model.ResourceLogs, True)},
    model.ResourceLogs: {
        1: _Field("resource", model.Resource),
        2: _Field("scope_logs", model.ScopeLogs, True),
    },
    model.ScopeLogs: {
        1: _Field("scope", model.InstrumentationScope),
        2: _Field("log_records", model.LogRecord, True),
    },
    model.LogRecord: {
        1: _Field("time_unix_nano", "fixed64"),
        5: _Field("body", model.AnyValue),
        6: _Field("attributes", model.KeyValue, True),
        9: _Field("trace_id", "hex"),
        10: _Field("span_id", "hex"),
        11: _Field("observed_time_unix_nano", "fixed64"),
        12: _Field("event_name", "string"),
    },
    model.KeyValue: {1: _Field("key", "string"), 2: _Field("value", model.AnyValue)},
    model.AnyValue: {
        1: _Field("string_value", "string"),
        2: _Field("bool_value", "bool"),
        3: _Field("int_value", "int64"),
        4: _Field("double_value", "double"),
        5: _Field("array_value", model.ArrayValue),
        6: _Field("kvlist_value", model.KeyValueList),
        7: _Field("bytes_value", "bytes"),
    },
    model.ArrayValue: {1: _Field("values", model.AnyValue, True)},
    model.KeyValueList: {1: _Field("values", model.KeyValue, True)},
}


def decode_request(raw: bytes, root: type = model.ExportTraceServiceRequest) -> Any:
    """Decode one ``ExportTraceServiceRequest`` (or ``root``, e.g. the logs request);
    raises :class:`OtlpFormatError`."""
    try:
        return _message(root, memoryview(raw), 0)
    except WireError as exc:
        raise OtlpFormatError(INVALID_PROTO, str(exc)) from None


def _message(cls: type, buf: memoryview, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError(f"messages nested deeper than {MAX_DEPTH}")
    schema = _SCHEMA[cls]
    values: dict[str, Any] = {f.name: [] for f in schema.values() if f.repeated}
    for number, wire_type, raw in iter_fields(buf):
        field = schema.get(number)
        if field is None:
            continue
        if wire_type != field.wire_type:
            raise WireError(
                f"{cls.__name__}.{field.name} (field {number}) has wire type {wire_type}, "
                f"expected {field.wire_type}"
            )
        value = _value(field, raw, depth, cls)
        if field.repeated:
            values[field.name].append(value)
        else:
            values[field.name] = value
    return cls(**values)


def _value(field: _Field, raw: int | memoryview, depth: int, owner: type) -> Any:
    if isinstance(field.kind, type):
        return _message(field.kind, raw, depth + 1)  # type: ignore[arg-type]
    if isinstance(raw, int):
        return bool(raw) if field.kind == "bool" else to_int64(raw)
    if field.kind == "string":
        try:
            return str(raw, "utf-8")
        except UnicodeDecodeError:
            raise WireError(f"{owner.__name__}.{field.name} is not UTF-8") from None
    if field.kind == "hex":
        return raw.hex()
    if field.kind == "bytes":
        return bytes(raw)
    if field.kind == "fixed64":
        return int.from_bytes(raw, "little")
    return struct.unpack("<d", raw)[0]  # "double"
