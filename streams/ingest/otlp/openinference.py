"""OpenInference spans (Arize Phoenix's convention) read as GenAI ones.

OpenInference names a span's role in ``openinference.span.kind`` (``LLM``, ``EMBEDDING``,
``CHAIN``, ``TOOL``, ``RETRIEVER``, ``AGENT``, ``RERANKER``, ``GUARDRAIL``, ``EVALUATOR``)
and records a model call under its own keys. An ``LLM`` or ``EMBEDDING`` span is rewritten
into the GenAI attributes :mod:`streams.ingest.otlp.genai` reads, so there is one mapping to
the trace event, not two:

=======================================  ===============================================
OpenInference                            GenAI attribute
=======================================  ===============================================
span kind LLM / EMBEDDING                ``gen_ai.operation.name`` chat / embeddings
``llm.model_name`` | ``embedding.model_name`` | invocation ``model``  ``gen_ai.*.model``
``llm.provider``, ``llm.system``         ``gen_ai.provider.name``, ``gen_ai.system``
``llm.token_count.prompt|completion``    ``gen_ai.usage.input_tokens|output_tokens``
``llm.invocation_parameters`` (JSON)     ``gen_ai.request.temperature``
``session.id``                           ``gen_ai.conversation.id``
``llm.input_messages.<i>.message.*``     ``gen_ai.prompt.<i>.role|content``
``llm.output_messages.<i>.message.*``    ``gen_ai.completion.<i>.role|content``
``embedding.embeddings.<i>.embedding.text``  ``gen_ai.prompt.<i>.content``
``input.value`` / ``output.value``       ``gen_ai.prompt`` / ``gen_ai.completion`` when
                                         no messages were recorded (OpenAI request or
                                         response JSON is read for its messages)
=======================================  ===============================================

A message's text is ``message.content``, or its ``message.contents.<j>.message_content.text``
parts joined. The OpenInference keys themselves are not kept: they hold the content.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import msgspec

from streams.ingest.otlp.content import parse_json
from streams.ingest.otlp.spans import SpanRecord

SPAN_KIND = "openinference.span.kind"
MODEL_KINDS = {"LLM": "chat", "EMBEDDING": "embeddings"}
_MESSAGE = re.compile(
    r"^llm\.(input|output)_messages\.(\d+)\.message\.(role|content|contents\.(\d+)\."
    r"message_content\.text)$"
)
_EMBEDDING_TEXT = re.compile(r"^embedding\.embeddings\.(\d+)\.embedding\.text$")
_RENAMED = {
    "llm.provider": "gen_ai.provider.name",
    "llm.system": "gen_ai.system",
    "llm.token_count.prompt": "gen_ai.usage.input_tokens",
    "llm.token_count.completion": "gen_ai.usage.output_tokens",
    "session.id": "gen_ai.conversation.id",
}
_KEPT = ("user.id",)


def kind(span: SpanRecord) -> str | None:
    """The span's OpenInference kind (upper case), or None for a span of another convention."""
    value = span.attributes.get(SPAN_KIND)
    return value.upper() if isinstance(value, str) and value else None


def model_name(span: SpanRecord) -> str | None:
    """The model that answered, else the one requested (``llm.invocation_parameters``'s
    ``model``: all a failed call records)."""
    attrs = span.attributes
    for key in ("llm.model_name", "embedding.model_name"):
        if isinstance(attrs.get(key), str) and attrs[key]:
            return attrs[key]
    requested = _invocation(attrs).get("model")
    return requested if isinstance(requested, str) and requested else None


def as_genai(span: SpanRecord) -> SpanRecord:
    """The ``LLM`` / ``EMBEDDING`` span with GenAI attributes in place of OpenInference's."""
    attrs = span.attributes
    out: dict[str, Any] = {"gen_ai.operation.name": MODEL_KINDS[kind(span) or "LLM"]}
    model = model_name(span)
    if model:
        out["gen_ai.request.model"] = out["gen_ai.response.model"] = model
    for key, target in _RENAMED.items():
        if attrs.get(key) not in (None, ""):
            out[target] = attrs[key]
    out.update({k: attrs[k] for k in _KEPT if k in attrs})
    temperature = _invocation(attrs).get("temperature")
    if isinstance(temperature, int | float) and not isinstance(temperature, bool):
        out["gen_ai.request.temperature"] = float(temperature)
    messages = _messages(attrs)
    for side, kind_ in (("input", "prompt"), ("output", "completion")):
        for i, (role, content) in enumerate(messages.get(side, [])):
            out[f"gen_ai.{kind_}.{i}.role"] = role
            out[f"gen_ai.{kind_}.{i}.content"] = content
    for i, text in enumerate(_embedding_texts(attrs)):
        out.setdefault(f"gen_ai.prompt.{i}.role", "user")
        out.setdefault(f"gen_ai.prompt.{i}.content", text)
    if not any(k.startswith("gen_ai.prompt.") for k in out):
        out.update(_value("input.value", "gen_ai.prompt", _request_messages, attrs))
    if not any(k.startswith("gen_ai.completion.") for k in out):
        out.update(_value("output.value", "gen_ai.completion", _response_text, attrs))
    # Error details (error.type, exception events) are the span's own, as for GenAI spans.
    out.update({k: v for k, v in attrs.items() if k == "error.type"})
    return replace(span, attributes=out)


def _messages(attrs: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, dict[int, dict[str, Any]]] = {}
    for key, value in attrs.items():
        match = _MESSAGE.match(key)
        if not match:
            continue
        message = found.setdefault(match[1], {}).setdefault(int(match[2]), {"parts": {}})
        if match[3] in ("role", "content"):
            message[match[3]] = value
        else:
            message["parts"][int(match[4])] = value
    out: dict[str, list[tuple[str, str]]] = {}
    for side, by_index in found.items():
        out[side] = []
        for _, message in sorted(by_index.items()):
            content = message.get("content")
            if not isinstance(content, str) or not content:
                content = "\n".join(str(t) for _, t in sorted(message["parts"].items()) if t)
            role = message.get("role")
            out[side].append((role if isinstance(role, str) and role else "user", content))
    return out


def _embedding_texts(attrs: dict[str, Any]) -> list[str]:
    texts = sorted((int(m[1]), v) for k, v in attrs.items()
                   if (m := _EMBEDDING_TEXT.match(k)) and isinstance(v, str))
    return [text for _, text in texts]


def _invocation(attrs: dict[str, Any]) -> dict[str, Any]:
    parsed = _json(attrs.get("llm.invocation_parameters"))
    return parsed if isinstance(parsed, dict) else {}


def _value(key: str, target: str, from_json: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    """``input.value`` / ``output.value``: JSON read for its messages, plain text as it is."""
    value = attrs.get(key)
    if not isinstance(value, str) or not value:
        return {}
    parsed = _json(value)
    if parsed is None:
        return {target: value}
    found = from_json(parsed)
    return {target: found} if found else {}


def _request_messages(request: Any) -> str | None:
    """An OpenAI-style request's ``messages`` (or ``input``/``prompt``), as JSON messages."""
    if not isinstance(request, dict):
        return None
    messages = request.get("messages")
    if isinstance(messages, list):
        return msgspec.json.encode(messages).decode()
    for key in ("input", "prompt"):
        if isinstance(request.get(key), str):
            return request[key]
        if isinstance(request.get(key), list):
            return "\n".join(str(v) for v in request[key] if isinstance(v, str)) or None
    return None


def _response_text(response: Any) -> str | None:
    """An OpenAI-style response's choices' text (chat or completion), joined."""
    if not isinstance(response, dict) or not isinstance(response.get("choices"), list):
        return None
    texts = []
    for choice in response["choices"]:
        if not isinstance(choice, dict):
            continue
        message = choice.get("message")
        text = message.get("content") if isinstance(message, dict) else choice.get("text")
        if isinstance(text, str) and text:
            texts.append(text)
    return "\n".join(texts) or None


def _json(value: Any) -> Any:
    """A JSON object or array held in a string attribute; None for anything else."""
    parsed = parse_json(value)
    return parsed if isinstance(parsed, dict | list) else None
