"""decode_otlp on records in the kafka exporter's shapes: every mapped field, both encodings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.events import Message, TraceEvent
from streams.ingest.decode import Rejected
from streams.ingest.otlp import OtlpBatch, decode_otlp
from tests.streams.ingest.otlp.fixtures import (
    ENCODERS,
    START_NS,
    Encode,
    decoded,
    encode_request,
    export_request,
    json_bytes,
    only_event,
    single_span_request,
)
from tests.streams.ingest.otlp.fixtures.otlp_proto import length_delimited

EXPECTED = [
    TraceEvent(
        event_id="5b8efff798038103d269b633813fc60c:eee19b7ec3c1b173",
        timestamp=1768471200100.0,
        app="support-bot",
        environment="prod",
        model="gpt-4o-mini-2024-07-18",
        provider="openai",
        latency_ms=1234.5,
        ttft_ms=250.0,
        prompt=[
            Message(role="system", content="You are a support assistant."),
            Message(role="user", content="Where is my order 1234?"),
            Message(role="assistant", content=""),  # a tool call only: no text
            Message(role="tool", content="shipped on Monday"),
        ],
        completion="Your order 1234 shipped on Monday.",
        prompt_tokens=42,
        completion_tokens=17,
        temperature=0.2,
        status="ok",
        conversation_id="conv_5j66UpCpwteGg4YSxUnt7lPY",
        user_id="user-7",
        trace_id="5b8efff798038103d269b633813fc60c",
        span_id="eee19b7ec3c1b173",
        parent_span_id="eee19b7ec3c1b174",
        metadata={
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.request.max_tokens": 512,
            "gen_ai.response.id": "chatcmpl-9xYzAbC",
            "gen_ai.response.finish_reasons": ["stop"],
            "otel.span.name": "chat gpt-4o-mini",
            "otel.scope.name": "opentelemetry.instrumentation.openai_v2",
            "otel.scope.version": "2.1b0",
            "service.version": "1.4.2",
        },
    ),
    TraceEvent(
        event_id="0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331",
        timestamp=1768471260000.0,
        app="support-bot",
        environment="prod",
        model="claude-3-5-sonnet-20241022",  # no response model: the request's
        provider="anthropic",
        latency_ms=30000.0,
        prompt=[Message(role="user", content="Translate to French: good morning")],
        status="error",
        error_type="RateLimitError",
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
        metadata={
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "claude-3-5-sonnet-20241022",
            "gen_ai.request.max_tokens": 1024,
            "otel.span.name": "chat claude-3-5-sonnet-20241022",
            "otel.scope.name": "opentelemetry.instrumentation.anthropic",
            "otel.scope.version": "0.40.2",
            "otel.status_message": "Error code: 429 - rate_limit_error",
            "service.version": "1.4.2",
        },
    ),
    TraceEvent(
        event_id="4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7",
        timestamp=1768471300000.0,
        app="search-indexer",
        environment="staging",
        model="text-embedding-3-small",
        provider="openai",
        latency_ms=80.0,
        # Embeddings: the inputs are the prompt, there is no completion.
        prompt=[
            Message(role="user", content="reset my password"),
            Message(role="user", content="change my billing address"),
        ],
        prompt_tokens=9,
        status="ok",
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        span_id="00f067aa0ba902b7",
        metadata={
            "gen_ai.operation.name": "embeddings",
            "gen_ai.request.model": "text-embedding-3-small",
            "gen_ai.embeddings.dimension.count": 1536,
            "otel.span.name": "openai.embeddings",
            "otel.scope.name": "opentelemetry.instrumentation.openai.v1",
            "otel.scope.version": "0.33.9",
        },
    ),
    TraceEvent(
        event_id="4bf92f3577b34da6a3ce929d0e0e4736:53995c3f42cd8ad8",
        timestamp=1768471310000.0,
        app="search-indexer",
        environment="staging",
        model="gpt-3.5-turbo-0125",
        provider="openai",  # from gen_ai.system
        latency_ms=950.0,
        prompt=[Message(role="user", content="Summarise: the invoice is overdue.")],
        completion="The invoice is late.",
        prompt_tokens=30,  # from gen_ai.usage.prompt_tokens
        completion_tokens=12,  # from gen_ai.usage.completion_tokens
        temperature=1.0,
        status="ok",
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        span_id="53995c3f42cd8ad8",
        metadata={
            "gen_ai.request.model": "gpt-3.5-turbo",
            "gen_ai.response.finish_reasons": ["stop"],
            "otel.span.name": "chat gpt-3.5-turbo",
            "otel.scope.name": "opentelemetry.instrumentation.openai",
            "otel.scope.version": "0.48b0",
        },
    ),
]


def test_the_exporter_fixture_gives_exactly_the_expected_events(encode: Encode) -> None:
    batch = decoded(export_request(), encode)
    assert batch.events == EXPECTED
    assert sum(batch.skipped.values()) == 1  # the HTTP server span
    assert batch.rejected_spans == []


def test_a_replayed_span_has_the_same_event_id_whatever_the_encoding() -> None:
    ids = {
        name: [e.event_id for e in decoded(export_request(), enc).events]
        for name, enc in ENCODERS.items()
    }
    assert len({tuple(v) for v in ids.values()}) == 1
    assert len(set(ids["otlp_json"])) == 4


@pytest.mark.parametrize(
    ("raw", "encoding", "reason"),
    [
        (b"", "auto", "empty"),
        (b"not json", "otlp_json", "otlp_invalid_json"),
        (b'{"resourceSpans": [', "otlp_json", "otlp_invalid_json"),
        (b'{"resourceSpans": [\xff]}', "otlp_json", "otlp_invalid_json"),
        (b"[1, 2, 3]", "otlp_json", "otlp_schema"),
        # A Seismo trace event sent to the OTLP topic by mistake.
        (b'{"event_id": "e1", "app": "a", "model": "m"}', "auto", "otlp_schema"),
        (b'{"resourceSpans": {"spans": []}}', "auto", "otlp_schema"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": 7}]}]}]}', "auto", "otlp_schema"),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]}',
            "auto",
            "otlp_schema",
        ),
        (b"not json", "auto", "otlp_invalid_proto"),  # not '{', so read as protobuf
        (b"\x0a\xff", "otlp_proto", "otlp_invalid_proto"),  # truncated length varint
        (b"\x0a\x05\x0a\x01", "otlp_proto", "otlp_invalid_proto"),  # length past the end
        (b"\x0b\x0c", "otlp_proto", "otlp_invalid_proto"),  # group wire type
        (b"\x08\x01", "otlp_proto", "otlp_invalid_proto"),  # resource_spans as a varint
        (b"\x00\x01", "otlp_proto", "otlp_invalid_proto"),  # field number 0
        (b"\x08" + b"\xff" * 10 + b"\x01", "otlp_proto", "otlp_invalid_proto"),  # > 64 bits
    ],
)
def test_malformed_records_are_rejected_with_their_reason(
    raw: bytes, encoding: str, reason: str
) -> None:
    result = decode_otlp(raw, encoding)
    assert isinstance(result, Rejected)
    assert result.reason == reason
    assert result.detail


def test_a_truncated_or_corrupted_protobuf_record_is_rejected() -> None:
    raw = encode_request(export_request())
    assert decode_otlp(raw[:-7], "otlp_proto").reason == "otlp_invalid_proto"
    # A span name that is not UTF-8: proto3 strings must be.
    doc = single_span_request({"gen_ai.operation.name": "chat"})
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"] = "\udcff"
    bad = encode_request_lossy(doc)
    result = decode_otlp(bad, "otlp_proto")
    assert isinstance(result, Rejected) and result.reason == "otlp_invalid_proto"
    assert "UTF-8" in result.detail


def encode_request_lossy(doc: dict) -> bytes:
    """encode_request, letting a lone surrogate through as the invalid byte 0xFF."""
    marker = "SURROGATE-MARKER"
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["name"] = marker
    return encode_request(doc).replace(marker.encode(), b"\xff" * len(marker))


def test_records_over_the_size_limit_are_rejected() -> None:
    raw = json_bytes(export_request())
    assert decode_otlp(raw, "auto", max_bytes=len(raw) - 1).reason == "too_large"
    assert isinstance(decode_otlp(raw, "auto", max_bytes=len(raw)), OtlpBatch)


def test_an_unknown_encoding_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="encoding"):
        decode_otlp(b"{}", "otlp_avro")  # type: ignore[arg-type]


def test_hostile_nesting_is_rejected_not_a_crash() -> None:
    depth = 5000  # attribute values nested in arrays, far past any real payload
    value_json = b'{"arrayValue":{"values":[' * depth + b'{"stringValue":"x"}' + b"]}}" * depth
    raw_json = b'{"resourceSpans":[{"resource":{"attributes":[{"key":"deep","value":%s}]}}]}'
    value_proto = length_delimited(1, b"x")  # AnyValue.string_value
    for _ in range(depth):  # AnyValue.array_value -> ArrayValue.values
        value_proto = length_delimited(5, length_delimited(1, value_proto))
    key_value = length_delimited(1, b"deep") + length_delimited(2, value_proto)
    raw_proto = length_delimited(1, length_delimited(1, length_delimited(1, key_value)))
    for raw, encoding in ((raw_json % value_json, "otlp_json"), (raw_proto, "otlp_proto")):
        result = decode_otlp(raw, encoding)
        assert isinstance(result, Rejected), encoding
        assert result.reason in ("otlp_invalid_json", "otlp_invalid_proto")


CHAT = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"}


def test_genai_spans_that_break_the_contract_are_rejected_one_by_one(encode: Encode) -> None:
    doc = export_request()
    spans = doc["resourceSpans"][1]["scopeSpans"][0]["spans"]
    bad = [
        single_span_request({"gen_ai.operation.name": "chat"}, span_id="1" * 16),  # no model
        single_span_request(CHAT, span_id="2" * 16, duration_ns=-1_000_000),  # ends first
        single_span_request(CHAT, trace_id="0" * 32),  # invalid trace id
        single_span_request(CHAT, span_id="abcd"),  # a 2-byte span id
        single_span_request({**CHAT, "gen_ai.usage.input_tokens": -3}, span_id="3" * 16),
    ]
    for other in bad:
        spans.extend(other["resourceSpans"][0]["scopeSpans"][0]["spans"])
    batch = decoded(doc, encode)
    assert batch.events == EXPECTED
    assert sum(batch.skipped.values()) == 1
    # A chat span without a model cannot be mapped at all: unmapped, with its attribute keys.
    assert [r.reason for r in batch.rejected_spans] == (
        ["otlp_unmapped"] + ["otlp_span_schema"] * (len(bad) - 1))
    details = [r.detail for r in batch.rejected_spans]
    assert "1111111111111111" in details[0] and "without a model" in details[0]
    assert "attribute keys: gen_ai.operation.name" in details[0]
    assert "latency_ms" in details[1]
    assert "trace_id" in details[2] and "span_id" in details[3]
    assert "prompt_tokens" in details[4]


def test_spans_starting_after_the_allowed_clock_skew_are_rejected(encode: Encode) -> None:
    start = datetime.fromtimestamp(START_NS / 1e9, tz=UTC)
    skew = timedelta(seconds=60)
    doc = single_span_request(CHAT)
    early = decoded(doc, encode, now=start - timedelta(seconds=61), max_future_skew=skew)
    assert early.events == [] and early.rejected_spans[0].reason == "timestamp_in_future"
    on_time = decoded(doc, encode, now=start - timedelta(seconds=59), max_future_skew=skew)
    assert len(on_time.events) == 1


@pytest.mark.parametrize(
    "attributes",
    [
        {"http.request.method": "GET"},
        {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_order"},
        {"gen_ai.operation.name": "invoke_agent", "gen_ai.request.model": "gpt-4o"},
        {"gen_ai.operation.name": "retrieval", "gen_ai.data_source.id": "kb"},
        {"gen_ai.operation.name": "create_agent", "gen_ai.agent.name": "helper"},
    ],
)
def test_spans_that_are_not_model_calls_are_skipped(attributes: dict, encode: Encode) -> None:
    batch = decoded(single_span_request(attributes), encode)
    assert (batch.events, sum(batch.skipped.values()), batch.rejected_spans) == ([], 1, [])


@pytest.mark.parametrize("operation", ["chat", "text_completion", "generate_content", "embeddings"])
def test_every_inference_operation_is_a_model_call(operation: str, encode: Encode) -> None:
    event = only_event(single_span_request({**CHAT, "gen_ai.operation.name": operation}), encode)
    assert event.metadata["gen_ai.operation.name"] == operation


def test_a_span_without_operation_name_but_with_a_model_is_a_model_call(encode: Encode) -> None:
    event = only_event(single_span_request({"gen_ai.request.model": "llama3"}), encode)
    assert (event.model, event.prompt, event.completion, event.status) == ("llama3", "", None, "ok")
