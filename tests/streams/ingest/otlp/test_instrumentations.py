"""The OpenTelemetry instrumentations LLM apps use, as they ship, against a local
OpenAI-compatible server: every model call becomes one event, field by field, from the
protobuf and the JSON encoding alike; the span around the calls is skipped and counted.

The modes that carry content in log records (openai-v2's default event form, OpenLLMetry's
events mode) are checked here for their spans, and in ``test_log_join.py`` joined to their logs.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import msgspec
import pytest

from streams.ingest.otlp import OtlpBatch, decode_otlp
from streams.ingest.prepare import PrepareConfig, Preparer
from streams.settings import Settings
from tests.streams.ingest.otlp.fixtures import single_span_request
from tests.support.otel_capture import LOG_MODES, MODES, SYSTEM, answer, calls

SKIPPED = {"openai_v2_span": {"other": 1}, "openinference": {"chain": 1},
           "openinference_genai": {"chain": 1}, "openllmetry": {"workflow": 1},
           "openai_v2_events": {"other": 1}, "openllmetry_events": {"workflow": 1}}


def batches(captured, mode: str) -> tuple[OtlpBatch, OtlpBatch]:
    proto, as_json = captured[mode].spans
    return decode_otlp(proto, "otlp_proto"), decode_otlp(as_json, "otlp_json")


def text(prompt) -> str:
    return prompt if isinstance(prompt, str) else "\n".join(m.content for m in prompt)


@pytest.mark.parametrize("mode", [m for m in MODES if m not in LOG_MODES])
def test_every_model_call_is_stored_with_its_fields(captured, mode: str) -> None:
    proto, as_json = batches(captured, mode)
    assert msgspec.to_builtins(proto.events) == msgspec.to_builtins(as_json.events)
    assert (dict(proto.skipped), proto.rejected_spans) == (SKIPPED[mode], [])
    made = calls()
    events = sorted(proto.events, key=lambda e: e.event_time)
    assert len(events) == len(made)
    assert all(e.app == f"app-{mode}" and e.latency_ms > 0 and e.model for e in events)
    chats = [(c, e) for c, e in zip(made, events, strict=True)
             if c.kind in ("chat", "chat_system", "stream")]
    complete = [e for c, e in chats
                if c.prompt in text(e.prompt) and e.completion == answer(c.prompt)
                and e.prompt_tokens == 21 and e.completion_tokens == 9
                and e.model == "gpt-4o-mini" and e.status == "ok"]
    assert len(complete) >= 0.95 * len(chats), [(c, e) for c, e in chats if e not in complete]
    for call, event in zip(made, events, strict=True):
        if call.kind == "chat_system":
            assert event.prompt[0].role == "system" and event.prompt[0].content == SYSTEM
        if call.kind == "error":
            assert (event.status, event.model) == ("error", "no-such-model")
            assert event.completion is None
        if call.kind == "embeddings":
            assert event.model == "text-embedding-3-small" and event.completion is None
            assert event.prompt_tokens == 8


def test_an_llm_span_without_a_model_is_dead_lettered_with_its_keys_only() -> None:
    secret = "my card is 4111 1111 1111 1111"
    doc = single_span_request({"openinference.span.kind": "LLM",
                               "llm.input_messages.0.message.role": "user",
                               "llm.input_messages.0.message.content": secret})
    chain = single_span_request({"openinference.span.kind": "CHAIN", "input.value": secret},
                                span_id="2" * 16)
    doc["resourceSpans"] += chain["resourceSpans"]
    prepared = Preparer(PrepareConfig.from_settings(Settings(), salt="s"))(
        "otlp", [json.dumps(doc).encode()], datetime.now(UTC))
    [(index, rejected)] = prepared.rejected
    assert (index, rejected.reason) == (0, "otlp_unmapped")
    assert "llm.input_messages.0.message.content" in rejected.detail
    assert "4111" not in rejected.detail and "card" not in rejected.detail
    assert Counter(prepared.counters) == Counter({
        ("seismo_otlp_spans_skipped_total", (("kind", "chain"),)): 1,
        ("seismo_otlp_spans_rejected_total", (("reason", "otlp_unmapped"),)): 1,
    })


def test_the_capture_writes_the_collectors_json_ids_in_hex(captured) -> None:
    doc = json.loads(captured["openllmetry"].spans[1])
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert len(span["traceId"]) == 32 and int(span["traceId"], 16)
