"""Python models of the event contracts, enforcing the same rules as ``schemas/json/``.

msgspec decodes and validates in one pass in C, which matters on the hot path (one decode per
Kafka record). Unknown fields are ignored, as the contract promises producers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec

# Epoch milliseconds before 2000-01-01 are almost always epoch *seconds* sent by mistake.
MIN_EPOCH_MS = 946_684_800_000
MAX_COUNT = 100_000_000
MAX_MS = 86_400_000.0

Label = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Ident = Annotated[str, msgspec.Meta(max_length=256)]
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
Millis = Annotated[float, msgspec.Meta(ge=0, le=MAX_MS)]
EpochMs = Annotated[float, msgspec.Meta(ge=MIN_EPOCH_MS)]


class Message(msgspec.Struct, frozen=True):
    role: Annotated[str, msgspec.Meta(max_length=64)]
    # Plain text, or a list of content parts (``{"type": "text", "text": ...}``) as chat APIs send.
    content: str | list[Any] | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        if not self.content:
            return ""
        parts = []
        for part in self.content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "\n".join(parts)


class TraceEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Trace event v1: one LLM call."""

    event_id: Label
    timestamp: datetime | EpochMs
    app: Label
    model: Label
    latency_ms: Millis
    prompt: str | list[Message]
    schema_version: Literal["1"] = "1"
    environment: Ident | None = None
    provider: Ident | None = None
    completion: str | None = None
    prompt_tokens: Count | None = None
    completion_tokens: Count | None = None
    ttft_ms: Millis | None = None
    status: Literal["ok", "error"] | None = None
    error_type: Ident | None = None
    conversation_id: Ident | None = None
    trace_id: Ident | None = None
    span_id: Ident | None = None
    parent_span_id: Ident | None = None
    chain_step: Ident | None = None
    step_index: Count | None = None  # bounded: stored as UInt32
    prompt_template: str | None = None
    prompt_version: Ident | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0, le=10)] | None = None
    user_id: Ident | None = None
    metadata: dict[str, Any] | None = None
    reference: str | None = None

    @property
    def event_time(self) -> datetime:
        return to_datetime(self.timestamp)

    def prompt_text(self, select: str = "all") -> str:
        """The prompt as one text, chat messages joined by newlines, roles dropped: ``all``
        messages, the ``user_turns``, or the ``last_user`` message (what the user just asked;
        the system prompt and earlier turns left out). A prompt without user messages reads
        as ``all``; a plain-string prompt is itself."""
        if isinstance(self.prompt, str):
            return self.prompt
        messages = self.prompt
        if select != "all":
            users = [m for m in messages if m.role == "user"]
            if users:
                messages = users[-1:] if select == "last_user" else users
        return "\n".join(m.text() for m in messages)

    def metadata_strings(self) -> dict[str, str]:
        """Metadata as string → string; other JSON values are kept as their JSON text."""
        if not self.metadata:
            return {}
        return {
            k: v if isinstance(v, str) else msgspec.json.encode(v).decode()
            for k, v in self.metadata.items()
        }


class FeedbackEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Feedback event v1: a user's rating of the trace ``event_id``."""

    event_id: Label
    timestamp: datetime | EpochMs
    score: Annotated[float, msgspec.Meta(ge=-1, le=1)] | None = None
    thumb: Literal["up", "down"] | None = None
    comment: str | None = None
    source: Ident | None = None

    def __post_init__(self) -> None:
        if self.score is None and self.thumb is None:
            raise ValueError("a feedback event needs `score` or `thumb`")

    @property
    def event_time(self) -> datetime:
        return to_datetime(self.timestamp)

    @property
    def value(self) -> float:
        """The rating in [-1, 1]: the score when given, else +1 / -1 for the thumb."""
        if self.score is not None:
            return self.score
        return 1.0 if self.thumb == "up" else -1.0


def to_datetime(value: datetime | float) -> datetime:
    """A contract timestamp as an aware UTC datetime (naive RFC 3339 is read as UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    return datetime.fromtimestamp(value / 1000.0, tz=UTC)


TRACE_DECODER = msgspec.json.Decoder(TraceEvent)
FEEDBACK_DECODER = msgspec.json.Decoder(FeedbackEvent)
