"""OpenTelemetry GenAI spans from the Collector's kafka exporter, as Seismo trace events.

Point the Collector's ``kafka`` exporter at a topic (default ``otlp_spans``; encoding
``otlp_json`` or ``otlp_proto``) and the worker decodes each record with :func:`decode_otlp`:
spans describing model calls become :class:`schemas.events.TraceEvent` objects, other spans
are counted and dropped, unreadable records are rejected with a DLQ reason.

Modules: :mod:`.model` (the OTLP messages), :mod:`.json_decode` and :mod:`.proto_decode`
(one per encoding, :mod:`.wire` under the latter), :mod:`.spans` (flattening),
:mod:`.content` (prompt and completion text), :mod:`.genai` (span to event), :mod:`.batch`
(the entry point).
"""

from streams.ingest.otlp.batch import (
    ENCODINGS,
    INVALID_JSON,
    INVALID_PROTO,
    SCHEMA,
    SPAN_SCHEMA,
    Encoding,
    OtlpBatch,
    decode_otlp,
)
from streams.ingest.otlp.genai import event_id

__all__ = [
    "ENCODINGS",
    "INVALID_JSON",
    "INVALID_PROTO",
    "SCHEMA",
    "SPAN_SCHEMA",
    "Encoding",
    "OtlpBatch",
    "decode_otlp",
    "event_id",
]
