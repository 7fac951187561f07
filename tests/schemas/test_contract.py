"""The JSON Schemas (what other languages produce against) and the Python models agree."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import msgspec
import pytest

from schemas.events import FEEDBACK_DECODER, TRACE_DECODER

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "json"
TRACE_SCHEMA = json.loads((SCHEMAS / "trace_event.v1.schema.json").read_text())
FEEDBACK_SCHEMA = json.loads((SCHEMAS / "feedback_event.v1.schema.json").read_text())

BASE = {
    "event_id": "e-1",
    "timestamp": "2026-03-01T10:00:00.250Z",
    "app": "support-bot",
    "model": "gpt-4o-mini",
    "latency_ms": 812.5,
    "prompt": "Where is my order?",
}
FULL = {
    **BASE,
    "schema_version": "1",
    "environment": "prod",
    "provider": "openai",
    "completion": "It shipped.",
    "prompt_tokens": 12,
    "completion_tokens": 4,
    "ttft_ms": 120.0,
    "status": "ok",
    "conversation_id": "c1",
    "trace_id": "a" * 32,
    "span_id": "b" * 16,
    "parent_span_id": "c" * 16,
    "chain_step": "answer",
    "step_index": 2,
    "prompt_template": "order-status",
    "prompt_version": "v2",
    "temperature": 0.2,
    "user_id": "u9",
    "metadata": {"tenant": "acme", "ab": 3},
    "reference": "Shipped on Monday.",
    "an_unknown_field": [1, 2],
}


def drop(key: str) -> dict:
    return {k: v for k, v in BASE.items() if k != key}


TRACE_CASES = [
    (BASE, True),
    (FULL, True),
    ({**BASE, "timestamp": 1_772_359_200_250}, True),
    (
        {
            **BASE,
            "prompt": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
            ],
        },
        True,
    ),
    ({**BASE, "status": "error", "error_type": "rate_limit", "completion": None}, True),
    *[
        (drop(key), False)
        for key in ("event_id", "timestamp", "app", "model", "latency_ms", "prompt")
    ],
    ({**BASE, "app": ""}, False),
    ({**BASE, "latency_ms": -1}, False),
    ({**BASE, "latency_ms": "12"}, False),
    ({**BASE, "prompt_tokens": -5}, False),
    ({**BASE, "prompt_tokens": 2.5}, False),
    ({**BASE, "prompt_tokens": 10**12}, False),
    ({**BASE, "status": "maybe"}, False),
    ({**BASE, "schema_version": "2"}, False),
    ({**BASE, "prompt": 42}, False),
    ({**BASE, "prompt": [{"content": "no role"}]}, False),
    ({**BASE, "timestamp": 1_700_000_000}, False),  # epoch seconds, not milliseconds
    ({**BASE, "temperature": 50}, False),
]


def python_accepts(decoder: msgspec.json.Decoder, document: dict) -> bool:
    try:
        decoder.decode(json.dumps(document).encode())
    except msgspec.ValidationError:
        return False
    return True


def schema_accepts(schema: dict, document: dict) -> bool:
    validator = jsonschema.Draft202012Validator(schema)
    return validator.is_valid(document)


@pytest.mark.parametrize(("document", "valid"), TRACE_CASES)
def test_trace_schema_and_model_agree(document: dict, valid: bool) -> None:
    assert schema_accepts(TRACE_SCHEMA, document) is valid
    assert python_accepts(TRACE_DECODER, document) is valid


FEEDBACK_CASES = [
    ({"event_id": "e-1", "timestamp": "2026-03-01T12:00:00Z", "thumb": "down"}, True),
    (
        {
            "event_id": "e-1",
            "timestamp": 1_772_366_400_000,
            "score": 0.5,
            "comment": "ok",
            "source": "widget",
        },
        True,
    ),
    ({"event_id": "e-1", "timestamp": "2026-03-01T12:00:00Z"}, False),
    ({"event_id": "e-1", "timestamp": "2026-03-01T12:00:00Z", "score": 2}, False),
    ({"event_id": "e-1", "timestamp": "2026-03-01T12:00:00Z", "thumb": "sideways"}, False),
    ({"timestamp": "2026-03-01T12:00:00Z", "thumb": "up"}, False),
]


@pytest.mark.parametrize(("document", "valid"), FEEDBACK_CASES)
def test_feedback_schema_and_model_agree(document: dict, valid: bool) -> None:
    assert schema_accepts(FEEDBACK_SCHEMA, document) is valid
    assert python_accepts(FEEDBACK_DECODER, document) is valid


def test_model_reads_what_producers_send() -> None:
    event = TRACE_DECODER.decode(json.dumps(FULL).encode())
    assert event.event_time.isoformat() == "2026-03-01T10:00:00.250000+00:00"
    assert event.metadata_strings() == {"tenant": "acme", "ab": "3"}
    chat = TRACE_DECODER.decode(json.dumps(TRACE_CASES[3][0]).encode())
    assert chat.prompt_text() == "Be brief.\nHi"
    naive = TRACE_DECODER.decode(json.dumps({**BASE, "timestamp": "2026-03-01T10:00:00"}).encode())
    assert naive.event_time.utcoffset().total_seconds() == 0
