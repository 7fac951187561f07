"""Span to trace event: the content conventions in use and the field fallbacks, both encodings."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.events import Message
from tests.streams.ingest.otlp.fixtures import Encode, json_bytes, only_event, single_span_request

CHAT = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}


def text_message(role: str, *texts: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": t} for t in texts]}


def prompt_and_completion(encode: Encode, attributes: dict, events=()) -> tuple[Any, Any]:
    event = only_event(single_span_request({**CHAT, **attributes}, events=events), encode)
    return event.prompt, event.completion


def test_no_captured_content_still_gives_an_event(encode: Encode) -> None:
    # Content capture is opt-in in every instrumentation: most production spans look like this.
    event = only_event(single_span_request({**CHAT, "gen_ai.usage.input_tokens": 5}), encode)
    assert (event.prompt, event.completion, event.prompt_tokens) == ("", None, 5)


def test_structured_messages_with_system_instructions(encode: Encode) -> None:
    prompt, completion = prompt_and_completion(
        encode,
        {
            "gen_ai.system_instructions": [{"type": "text", "content": "Be brief."}],
            "gen_ai.input.messages": [text_message("user", "Hi", "there")],
            "gen_ai.output.messages": [
                {**text_message("assistant", "Hello!"), "finish_reason": "stop"},
                {**text_message("assistant", "Hey."), "finish_reason": "stop"},  # n=2
            ],
        },
    )
    assert prompt == [Message("system", "Be brief."), Message("user", "Hi\nthere")]
    assert completion == "Hello!\nHey."


def test_tool_results_are_prompt_text_and_tool_calls_are_not(encode: Encode) -> None:
    prompt, completion = prompt_and_completion(
        encode,
        {
            "gen_ai.input.messages": [
                {"role": "tool", "parts": [{"type": "tool_call_response", "result": {"t": 12}}]},
                {"role": "user", "parts": [{"type": "uri", "uri": "https://x/cat.png"}]},
            ],
            "gen_ai.output.messages": [
                {"role": "assistant", "parts": [{"type": "tool_call", "name": "f"}]}
            ],
        },
    )
    assert prompt == [Message("tool", '{"t":12}'), Message("user", "")]
    assert completion == ""  # the model answered with a tool call, no text


def test_messages_on_the_operation_details_event(encode: Encode) -> None:
    details = {
        "gen_ai.input.messages": [text_message("user", "Ping")],
        "gen_ai.output.messages": [text_message("assistant", "Pong")],
    }
    prompt, completion = prompt_and_completion(
        encode, {}, events=[("gen_ai.client.inference.operation.details", details)]
    )
    assert (prompt, completion) == ([Message("user", "Ping")], "Pong")


@pytest.mark.parametrize(
    ("prompt_value", "completion_value", "expected"),
    [
        ("Hello there", "General Kenobi", ("Hello there", "General Kenobi")),
        ("42", "[not json", ("42", "[not json")),
        (
            '[{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]',
            '{"role": "assistant", "content": "Yo"}',
            ([Message("user", "Hi")], "Yo"),
        ),
    ],
)
def test_older_prompt_and_completion_attributes(
    encode: Encode, prompt_value: str, completion_value: str, expected: tuple
) -> None:
    found = prompt_and_completion(
        encode, {"gen_ai.prompt": prompt_value, "gen_ai.completion": completion_value}
    )
    assert found == expected


def test_openllmetry_indexed_attributes_in_numeric_order(encode: Encode) -> None:
    attributes: dict[str, Any] = {"gen_ai.prompt.0.role": "system", "gen_ai.prompt.0.content": "S"}
    for i in range(1, 11):
        attributes[f"gen_ai.prompt.{i}.role"] = "user"
        attributes[f"gen_ai.prompt.{i}.content"] = f"u{i}"
    attributes["gen_ai.completion.0.role"] = "assistant"
    attributes["gen_ai.completion.0.content"] = "done"
    attributes["gen_ai.completion.0.finish_reason"] = "stop"
    event = only_event(single_span_request({**CHAT, **attributes}), encode)
    assert event.prompt == [Message("system", "S")] + [
        Message("user", f"u{i}") for i in range(1, 11)
    ]
    assert event.completion == "done"
    assert not any(k.startswith(("gen_ai.prompt", "gen_ai.completion")) for k in event.metadata)


def test_per_message_span_events(encode: Encode) -> None:
    events = [
        ("gen_ai.system.message", {"content": "Be brief."}),
        ("gen_ai.user.message", {"content": "Hi"}),
        ("gen_ai.choice", {"index": 0, "message": {"role": "assistant", "content": "Hello!"}}),
        ("gen_ai.choice", {"index": 1, "message": '{"role": "assistant", "content": "Hey."}'}),
    ]
    prompt, completion = prompt_and_completion(encode, {}, events=events)
    assert prompt == [Message("system", "Be brief."), Message("user", "Hi")]
    assert completion == "Hello!\nHey."


def test_content_never_lands_in_metadata(encode: Encode) -> None:
    # Metadata is stored as is; only prompt and completion go through the redaction policy.
    secret = "sk-live-0123456789abcdef"
    attributes = {
        "gen_ai.input.messages": [text_message("user", secret)],
        "gen_ai.output.messages": [text_message("assistant", secret)],
        "gen_ai.system_instructions": secret,
        "gen_ai.tool.definitions": [{"name": "f", "description": secret}],
        "gen_ai.tool.call.arguments": secret,
        "gen_ai.retrieval.query.text": secret,
    }
    event = only_event(single_span_request({**CHAT, **attributes}), encode)
    assert secret in event.prompt_text() and secret in (event.completion or "")
    assert secret not in str(event.metadata_strings())


def test_error_type_falls_back_to_the_status_message(encode: Encode) -> None:
    status = {"code": "STATUS_CODE_ERROR", "message": "x" * 300}  # enum by name, as JSON may
    event = only_event(single_span_request(CHAT, status=status), encode)
    assert (event.status, event.error_type) == ("error", "x" * 256)
    assert event.metadata["otel.status_message"] == "x" * 300


def test_error_type_alone_marks_an_error(encode: Encode) -> None:
    event = only_event(single_span_request({**CHAT, "error.type": "timeout"}), encode)
    assert (event.status, event.error_type) == ("error", "timeout")


def test_an_ok_span_is_ok_and_carries_no_error_type(encode: Encode) -> None:
    event = only_event(single_span_request(CHAT, status={"code": 1}), encode)
    assert (event.status, event.error_type) == ("ok", None)


def test_fallbacks_for_service_and_ids(encode: Encode) -> None:
    doc = single_span_request(
        {**CHAT, "enduser.id": "u-1"},
        resource={"host.name": "h"},
        trace_id="4BF92F3577B34DA6A3CE929D0E0E4736",
    )
    event = only_event(doc, encode)
    assert (event.app, event.environment, event.user_id) == ("unknown_service", None, "u-1")
    assert event.event_id == "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7"
    assert event.parent_span_id is None


def test_json_written_by_other_encoders_with_plain_numbers() -> None:
    # Non-Go OTLP/JSON writers may emit 64-bit integers as numbers instead of strings.
    doc = single_span_request(CHAT)
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["startTimeUnixNano"] = int(span["startTimeUnixNano"])
    span["endTimeUnixNano"] = int(span["endTimeUnixNano"])
    span["attributes"].append({"key": "gen_ai.usage.input_tokens", "value": {"intValue": 42}})
    event = only_event(doc, lambda d: (json_bytes(d), "otlp_json"))
    assert (event.prompt_tokens, event.latency_ms) == (42, 500.0)
