"""Properties over generated input: both encodings agree, and no input crashes the decoder."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.ingest.decode import Rejected
from streams.ingest.otlp import OtlpBatch, decode_otlp
from tests.streams.ingest.otlp.fixtures import (
    ENCODERS,
    encode_request,
    export_request,
    only_event,
    single_span_request,
)

CHAT = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"}
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
SCALARS = (
    st.text(max_size=20)
    | st.booleans()
    | INT64
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.binary(max_size=20)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def as_python(value: Any) -> Any:
    """What an attribute value becomes in metadata: bytes as base64 text, containers deep."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, list):
        return [as_python(v) for v in value]
    if isinstance(value, dict):
        return {k: as_python(v) for k, v in value.items()}
    return value


@settings(max_examples=150, deadline=None)
@given(value=VALUES)
def test_attribute_values_read_the_same_from_json_and_protobuf(value: Any) -> None:
    doc = single_span_request({**CHAT, "gen_ai.custom": value})
    seen = [only_event(doc, encode).metadata["gen_ai.custom"] for encode in ENCODERS.values()]
    assert seen == [as_python(value)] * len(ENCODERS)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200), encoding=st.sampled_from(["otlp_json", "otlp_proto", "auto"]))
def test_arbitrary_bytes_are_a_batch_or_a_rejection(raw: bytes, encoding: str) -> None:
    assert isinstance(decode_otlp(raw, encoding), OtlpBatch | Rejected)


VALID_PROTO = encode_request(export_request())


@settings(max_examples=300, deadline=None)
@given(
    position=st.integers(min_value=0, max_value=len(VALID_PROTO) - 1),
    byte=st.integers(min_value=0, max_value=255),
)
def test_a_corrupted_protobuf_record_is_a_batch_or_a_rejection(position: int, byte: int) -> None:
    raw = VALID_PROTO[:position] + bytes([byte]) + VALID_PROTO[position + 1 :]
    assert isinstance(decode_otlp(raw, "otlp_proto"), OtlpBatch | Rejected)


MAPPED_KEYS = [
    "gen_ai.operation.name",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.prompt",
    "gen_ai.completion",
    "gen_ai.prompt.0.content",
    "gen_ai.completion.0.role",
    "gen_ai.response.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.request.temperature",
    "gen_ai.response.time_to_first_chunk",
    "error.type",
    "user.id",
]
MESSAGE_LIKE = st.recursive(
    VALUES,
    lambda inner: (
        st.fixed_dictionaries(
            {},
            optional={
                "role": inner,
                "parts": inner,
                "content": inner,
                "type": st.sampled_from(["text", "tool_call_response", "tool_call"]) | inner,
                "response": inner,
                "message": inner,
            },
        )
        | st.lists(inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=100, deadline=None)
@given(attributes=st.dictionaries(st.sampled_from(MAPPED_KEYS), MESSAGE_LIKE, max_size=4))
def test_odd_values_under_mapped_keys_never_break_the_batch(attributes: dict) -> None:
    doc = single_span_request({**CHAT, **attributes})
    raw, encoding = ENCODERS["otlp_json"](doc)
    batch = decode_otlp(raw, encoding)
    assert isinstance(batch, OtlpBatch)
    assert len(batch.events) + len(batch.rejected_spans) + sum(batch.skipped.values()) == 1
