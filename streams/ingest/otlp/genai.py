"""One OTLP span carrying OpenTelemetry GenAI attributes to a trace-event v1 dict.

Which spans are model calls (:func:`classify`): those whose ``gen_ai.operation.name`` is an
inference operation (chat, text_completion, generate_content, embeddings), from
instrumentations older than that attribute spans with no operation name but a
``gen_ai.*.model``, and OpenInference ``LLM`` and ``EMBEDDING`` spans (read through
:mod:`streams.ingest.otlp.openinference`). Agent, tool, workflow, chain, memory and retrieval
spans are skipped and counted by kind: they wrap model calls, and mapping them too would count
the same tokens twice. Nothing is dropped silently: a span that looks like a model call (an
inference operation, an OpenInference LLM kind, or token or prompt attributes) but names no
model is *unmapped*, dead-lettered with its attribute keys.

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
from dataclasses import dataclass
from typing import Any

from streams.ingest.otlp import openinference
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
TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
SPAN_ID = re.compile(r"^[0-9a-f]{16}$")


CALL, SKIP, UNMAPPED = "call", "skip", "unmapped"
_KIND_LABEL = re.compile(r"^[a-z][a-z0-9_.]{0,39}$")
# Keys only a model call's span carries: such a span without a model is unmapped, not skipped.
_LLM_KEY = re.compile(r"^(gen_ai\.(usage|prompt|completion|input|output)|llm\.)")
_MAX_KEYS = 40


@dataclass(frozen=True, slots=True)
class Classified:
    """What a span is: a model call (``span`` in GenAI attributes, OpenInference translated),
    a span of another kind to skip and count (``label``: its kind), or a span that looks like
    a model call but cannot be mapped (``label``: why, with its attribute keys, no values)."""

    verdict: str
    span: SpanRecord
    label: str


def classify(span: SpanRecord) -> Classified:
    """Model call, skipped (by kind) or unmapped (see the module docstring)."""
    attrs = span.attributes
    oi_kind = openinference.kind(span)
    if oi_kind is not None:
        if oi_kind not in openinference.MODEL_KINDS:
            return Classified(SKIP, span, _kind_label(oi_kind))
        if openinference.model_name(span) is None:
            return _unmapped(span, f"OpenInference {oi_kind} span without llm.model_name")
        return Classified(CALL, openinference.as_genai(span), "")
    has_model = RESPONSE_MODEL in attrs or REQUEST_MODEL in attrs
    operation = attrs.get(OPERATION)
    if isinstance(operation, str):
        if operation not in INFERENCE_OPERATIONS:
            return Classified(SKIP, span, _kind_label(operation))
        if not has_model:
            return _unmapped(span, f"gen_ai.operation.name {operation!r} without a model")
        return Classified(CALL, span, "")
    if has_model:
        return Classified(CALL, span, "")
    if any(_LLM_KEY.match(key) for key in attrs):
        return _unmapped(span, "LLM attributes without gen_ai.operation.name or a model")
    return Classified(SKIP, span, _kind_label(attrs.get("traceloop.span.kind")))


def _kind_label(value: Any) -> str:
    """A bounded label for /metrics: the kind as the instrumentation named it, or "other"."""
    label = value.lower() if isinstance(value, str) else ""
    return label if _KIND_LABEL.match(label) else "other"


def _unmapped(span: SpanRecord, why: str) -> Classified:
    keys = sorted(span.attributes)
    shown = ", ".join(keys[:_MAX_KEYS]) + (f" (+{len(keys) - _MAX_KEYS} more)"
                                           if len(keys) > _MAX_KEYS else "")
    return Classified(UNMAPPED, span, f"span {event_id(span.trace_id, span.span_id)}: {why}; "
                                      f"attribute keys: {shown or 'none'}")


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
    if not TRACE_ID.match(span.trace_id) or not span.trace_id.strip("0"):
        raise SpanMappingError(f"span {span.span_id!r}: invalid trace_id {span.trace_id!r}")
    if not SPAN_ID.match(span.span_id) or not span.span_id.strip("0"):
        raise SpanMappingError(f"trace {span.trace_id}: invalid span_id {span.span_id!r}")
    if span.parent_span_id and not SPAN_ID.match(span.parent_span_id):
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
