"""The prompt and completion text of a GenAI span, from whichever convention recorded them.

Content capture is opt-in in every GenAI instrumentation, so most spans carry none; then the
prompt is ``""`` and the completion ``None`` and the span still yields latency and tokens.
Where content is present it is read, first match wins, from:

1. ``gen_ai.input.messages`` / ``gen_ai.output.messages`` (+ ``gen_ai.system_instructions``),
   current semconv: messages ``{role, parts: [{type, content}, ...]}``, either structured
   (array of kvlists) or a JSON string; on the span, else on any span event (the
   ``gen_ai.client.inference.operation.details`` event carries the same attributes);
2. ``gen_ai.prompt`` / ``gen_ai.completion``, semconv <= 1.27: a string, often JSON messages
   ``[{role, content}]``; on the span or on the ``gen_ai.content.prompt`` /
   ``gen_ai.content.completion`` events;
3. ``gen_ai.prompt.<i>.role|content`` / ``gen_ai.completion.<i>.content``, OpenLLMetry's
   flattened form (also how it records embedding inputs);
4. span events ``gen_ai.{system,user,assistant,tool}.message`` and ``gen_ai.choice`` with a
   ``content`` (or, for choices, ``message``) attribute.

Parts that are text for the purpose of drift and safety signals: ``text`` parts, and tool
results (``tool_call_response``: what the tool returned is read by the model). Tool calls,
media and reasoning parts carry no prompt text and are left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from streams.ingest.otlp.spans import EventRecord, SpanRecord

INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
LEGACY_PROMPT = "gen_ai.prompt"
LEGACY_COMPLETION = "gen_ai.completion"
CONTENT_KEYS = frozenset(
    {INPUT_MESSAGES, OUTPUT_MESSAGES, SYSTEM_INSTRUCTIONS, LEGACY_PROMPT, LEGACY_COMPLETION}
)
INDEXED_CONTENT = re.compile(r"^gen_ai\.(prompt|completion)\.(\d+)\.(\w+)$")

_ROLE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
_CHOICE_EVENT = "gen_ai.choice"
_MAX_ROLE = 64  # schemas.events.Message.role

Message = dict[str, str]


def prompt_of(span: SpanRecord) -> str | list[Message]:
    """The prompt: chat messages ``[{role, content}]``, a plain string, or ``""``."""
    system = _parts_text(parse_json(_lookup(span, SYSTEM_INSTRUCTIONS)))
    found = _recorded(span, INPUT_MESSAGES, LEGACY_PROMPT, "prompt", _role_events)
    if not system:
        return found if found is not None else ""
    if isinstance(found, str):
        found = [{"role": "user", "content": found}]
    return [{"role": "system", "content": system}, *(found or [])]


def completion_of(span: SpanRecord) -> str | None:
    """The completion text (choices joined by newlines), or ``None`` when none was recorded."""
    found = _recorded(span, OUTPUT_MESSAGES, LEGACY_COMPLETION, "completion", _choice_events)
    if found is None or isinstance(found, str):
        return found
    return "\n".join(m["content"] for m in found if m["content"])


def _recorded(
    span: SpanRecord, current: str, legacy: str, indexed: str,
    from_events: Callable[[Iterable[EventRecord]], str | list[Message] | None],
) -> str | list[Message] | None:
    """The first of the conventions that recorded the content, newest first: the current
    semantic conventions' attribute, the legacy one, indexed attributes, then span events."""
    found = _messages(_lookup(span, current))
    if found is None:
        found = _legacy(_lookup(span, legacy))
    if found is None:
        found = _indexed(span.attributes, indexed)
    if found is None:
        found = from_events(span.events)
    return found


def _lookup(span: SpanRecord, key: str) -> Any:
    if key in span.attributes:
        return span.attributes[key]
    for event in span.events:
        if key in event.attributes:
            return event.attributes[key]
    return None


def parse_json(value: Any) -> Any:
    """A JSON string attribute as its value; anything else (or bad JSON) unchanged."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return msgspec.json.decode(value)
        except msgspec.DecodeError:
            return value
    return value


def _messages(value: Any) -> list[Message] | None:
    """Semconv messages (or OpenAI-style ``{role, content}``) as ``[{role, content}]``."""
    if value is None:
        return None
    value = parse_json(value)
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return None
    out = []
    for item in value:
        if isinstance(item, str):
            out.append({"role": "user", "content": item})
        elif isinstance(item, dict):
            content = item["parts"] if "parts" in item else item.get("content")
            out.append({"role": _role(item.get("role")), "content": _parts_text(content)})
    return out


def _legacy(value: Any) -> str | list[Message] | None:
    """``gen_ai.prompt`` / ``gen_ai.completion``: JSON messages when they parse, else text."""
    parsed = parse_json(value)
    if isinstance(parsed, list | dict):
        return _messages(parsed)
    return value if isinstance(value, str) else None


def _parts_text(content: Any) -> str:
    """The text of a message's content: a string, or a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        return _json_text(content)
    texts = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict):
            kind = part.get("type", "text")
            if kind == "text":
                # semconv puts the text under "content"; OpenAI-style parts under "text".
                texts.append(_json_text(part.get("content", part.get("text"))))
            elif kind == "tool_call_response":
                texts.append(_json_text(part.get("response", part.get("result"))))
    return "\n".join(t for t in texts if t)


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else msgspec.json.encode(value).decode()


def _role(value: Any) -> str:
    return value[:_MAX_ROLE] if isinstance(value, str) and value else "user"


def _indexed(attrs: dict[str, Any], kind: str) -> list[Message] | None:
    """OpenLLMetry's ``gen_ai.<kind>.<i>.role`` / ``.content`` attributes, in index order."""
    by_index: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        match = INDEXED_CONTENT.match(key)
        if match and match.group(1) == kind:
            by_index.setdefault(int(match.group(2)), {})[match.group(3)] = value
    if not by_index:
        return None
    return [
        {"role": _role(fields.get("role")), "content": _parts_text(fields.get("content"))}
        for _, fields in sorted(by_index.items())
    ]


def _role_events(events: Iterable[EventRecord]) -> list[Message] | None:
    found = [
        {"role": _ROLE_EVENTS[e.name], "content": _parts_text(parse_json(e.attributes["content"]))}
        for e in events
        if e.name in _ROLE_EVENTS and "content" in e.attributes
    ]
    return found or None


def _choice_events(events: Iterable[EventRecord]) -> str | None:
    texts = []
    for event in events:
        if event.name != _CHOICE_EVENT:
            continue
        message = parse_json(event.attributes.get("message"))
        if isinstance(message, dict):
            texts.append(_parts_text(message.get("content")))
        elif "content" in event.attributes:
            texts.append(_parts_text(parse_json(event.attributes["content"])))
    return "\n".join(t for t in texts if t) if texts else None
