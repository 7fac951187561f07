"""One OTLP span carrying OpenTelemetry GenAI attributes to a trace-event v1 dict.

Which spans are model calls: those whose ``gen_ai.operation.name`` is an inference operation
(chat, text_completion, generate_content, embeddings), and, from instrumentations older than
that attribute, spans with no operation name but a ``gen_ai.*.model``. Agent, tool, workflow,
memory and retrieval spans are skipped: they wrap model calls, and mapping them too would
count the same tokens twice.

Mapping (current semconv first, older names as fallbacks):

==================  ===============================================================
event field         span data
==================  ===============================================================
event_id            ``<trace_id>:<span_id>``: a replayed span is the same event
timestamp           start time, epoch ms
latency_ms          end - start
app                 resource ``service.name`` (``unknown_service`` when absent)
environment         resource ``deployment.environment.name`` | ``deployment.environment``
model               ``gen_ai.response.model`` | ``gen_ai.request.model``
provider            ``gen_ai.provider.name`` | ``gen_ai.system``
prompt_tokens       ``gen_ai.usage.input_tokens`` | ``gen_ai.usage.prompt_tokens``
completion_tokens   ``gen_ai.usage.output_tokens`` | ``gen_ai.usage.completion_tokens``
ttft_ms             ``gen_ai.response.time_to_first_chunk`` (seconds) x 1000
temperature         ``gen_ai.request.temperature``
conversation_id     ``gen_ai.conversation.id``
user_id             ``user.id`` | ``enduser.id``
status, error_type  status ERROR or an ``error.type`` -> "error", type from ``error.type``
                    else the status message; otherwise "ok"
prompt, completion  :mod:`streams.ingest.otlp.content`
metadata            the other ``gen_ai.*`` attributes (``gen_ai.operation.name``,
                    ``gen_ai.request.model``, ``gen_ai.response.id``, ...), never content;
                    ``otel.span.name``, ``otel.scope.name|version``, ``service.version``,
                    ``otel.status_message``
==================  ===============================================================

An embeddings span has input but no output text: its prompt is its input (one user message
per input when recorded) and its completion is ``None``; ``gen_ai.operation.name`` in
metadata lets a query set embeddings apart.
"""

from __future__ import annotations

import re
from typing import Any

from streams.ingest.otlp.content import CONTENT_KEYS, INDEXED_CONTENT, completion_of, prompt_of
from streams.ingest.otlp.exceptions import SpanMappingError
from streams.ingest.otlp.spans import STATUS_ERROR, SpanRecord

OPERATION = "gen_ai.operation.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
INFERENCE_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
UNKNOWN_SERVICE = "unknown_service"
_MAX_IDENT = 256  # schemas.events.Ident
_NANOS_PER_MS = 1_000_000

# Attributes that become event fields, so are not repeated in metadata. The request model
# stays in metadata: it can differ from the model that answered.
_PROVIDER = ("gen_ai.provider.name", "gen_ai.system")
_INPUT_TOKENS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
_OUTPUT_TOKENS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
_TTFT = "gen_ai.response.time_to_first_chunk"
_TEMPERATURE = "gen_ai.request.temperature"
_CONVERSATION = "gen_ai.conversation.id"
_FIELD_KEYS = frozenset(
    {RESPONSE_MODEL, _TTFT, _TEMPERATURE, _CONVERSATION}
    | {*_PROVIDER, *_INPUT_TOKENS, *_OUTPUT_TOKENS}
)
# Opt-in content beside the messages: kept out of metadata, which no redaction policy covers.
_CONTENT_LIKE = CONTENT_KEYS | {
    "gen_ai.tool.definitions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "gen_ai.retrieval.documents",
    "gen_ai.retrieval.query.text",
}
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")


def is_model_call(span: SpanRecord) -> bool:
    """Whether the span describes one call to a model (see the module docstring)."""
    operation = span.attributes.get(OPERATION)
    if isinstance(operation, str):
        return operation in INFERENCE_OPERATIONS
    return RESPONSE_MODEL in span.attributes or REQUEST_MODEL in span.attributes


def event_id(trace_id: str, span_id: str) -> str:
    """The event id of a span: deterministic, so a replay of the span is idempotent."""
    return f"{trace_id}:{span_id}"


def to_event_dict(span: SpanRecord) -> dict[str, Any]:
    """The trace-event v1 dict of a model-call span (validated by the caller).

    Raises :class:`SpanMappingError` when the span cannot be identified (bad ids).
    """
    _check_ids(span)
    attrs = span.attributes
    error_type = _first(attrs, ("error.type",))
    is_error = span.status_code == STATUS_ERROR or error_type is not None
    if is_error and error_type is None:
        error_type = span.status_message or None
    ttft_s = attrs.get(_TTFT)
    event = {
        "event_id": event_id(span.trace_id, span.span_id),
        "timestamp": span.start_time_unix_nano / _NANOS_PER_MS,
        "latency_ms": (span.end_time_unix_nano - span.start_time_unix_nano) / _NANOS_PER_MS,
        "app": _first(span.resource, ("service.name",)) or UNKNOWN_SERVICE,
        "environment": _first(
            span.resource, ("deployment.environment.name", "deployment.environment")
        ),
        "model": _first(attrs, (RESPONSE_MODEL, REQUEST_MODEL)),
        "provider": _first(attrs, _PROVIDER),
        "prompt": prompt_of(span),
        "completion": completion_of(span),
        "prompt_tokens": _first(attrs, _INPUT_TOKENS),
        "completion_tokens": _first(attrs, _OUTPUT_TOKENS),
        "ttft_ms": ttft_s * 1000.0 if isinstance(ttft_s, int | float) else None,
        "temperature": attrs.get(_TEMPERATURE),
        "conversation_id": attrs.get(_CONVERSATION),
        "user_id": _first(attrs, ("user.id", "enduser.id")),
        "status": "error" if is_error else "ok",
        "error_type": str(error_type)[:_MAX_IDENT] if error_type is not None else None,
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id or None,
        "metadata": _metadata(span),
    }
    return {k: v for k, v in event.items() if v is not None}


def _check_ids(span: SpanRecord) -> None:
    if not _TRACE_ID.match(span.trace_id) or not span.trace_id.strip("0"):
        raise SpanMappingError(f"span {span.span_id!r}: invalid trace_id {span.trace_id!r}")
    if not _SPAN_ID.match(span.span_id) or not span.span_id.strip("0"):
        raise SpanMappingError(f"trace {span.trace_id}: invalid span_id {span.span_id!r}")
    if span.parent_span_id and not _SPAN_ID.match(span.parent_span_id):
        raise SpanMappingError(
            f"span {event_id(span.trace_id, span.span_id)}: "
            f"invalid parent_span_id {span.parent_span_id!r}"
        )


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """The value of the first key present (current convention first, then older names)."""
    for key in keys:
        value = attrs.get(key)
        if value is not None and value != "":
            return value
    return None


def _metadata(span: SpanRecord) -> dict[str, Any]:
    meta: dict[str, Any] = {
        key: value
        for key, value in span.attributes.items()
        if key.startswith("gen_ai.")
        and key not in _FIELD_KEYS
        and key not in _CONTENT_LIKE
        and not INDEXED_CONTENT.match(key)
        and value is not None
    }
    extra = {
        "otel.span.name": span.name,
        "otel.scope.name": span.scope_name,
        "otel.scope.version": span.scope_version,
        "otel.status_message": span.status_message,
        "service.version": span.resource.get("service.version"),
    }
    meta.update({k: v for k, v in extra.items() if v not in (None, "")})
    return meta
