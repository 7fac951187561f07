"""Bytes from Kafka to a validated event, or a rejection with a reason for the DLQ.

Nothing here raises on input: every failure becomes a :class:`Rejected` whose ``reason`` is a
stable code (it goes into the DLQ header ``seismo.reason``) and whose ``detail`` says where.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

import msgspec

from schemas.events import FEEDBACK_DECODER, TRACE_DECODER, FeedbackEvent, TraceEvent

E = TypeVar("E", TraceEvent, FeedbackEvent)

# Reason codes, one per class of bad input.
EMPTY = "empty"
TOO_LARGE = "too_large"
INVALID_UTF8 = "invalid_utf8"
INVALID_JSON = "invalid_json"
SCHEMA = "schema"
FUTURE_TIMESTAMP = "timestamp_in_future"


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class EventDecoder(Generic[E]):
    """Decode and validate one record's value against one contract."""

    decoder: msgspec.json.Decoder
    max_bytes: int
    max_future_skew: timedelta

    def __call__(self, raw: bytes | None, now: datetime | None = None) -> E | Rejected:
        if not raw:
            return Rejected(EMPTY, "the record has no value")
        if len(raw) > self.max_bytes:
            return Rejected(TOO_LARGE, f"{len(raw)} bytes > max_event_bytes {self.max_bytes}")
        try:
            event = self.decoder.decode(raw)
        except UnicodeDecodeError as exc:
            return Rejected(INVALID_UTF8, f"invalid UTF-8 at byte {exc.start}")
        except msgspec.ValidationError as exc:
            return Rejected(SCHEMA, str(exc))
        except msgspec.DecodeError as exc:
            if _is_utf8(raw):
                return Rejected(INVALID_JSON, str(exc))
            return Rejected(INVALID_UTF8, "the value is not UTF-8")
        except RecursionError:  # msgspec gives up on nesting about 1,000 deep
            return Rejected(INVALID_JSON, "JSON is nested too deeply")
        now = now or datetime.now(UTC)
        try:
            event_time = event.event_time
        except (OverflowError, ValueError, OSError):  # epoch milliseconds past year 9999
            return Rejected(SCHEMA, "timestamp is out of range - at `$.timestamp`")
        if event_time - now > self.max_future_skew:
            return Rejected(
                FUTURE_TIMESTAMP,
                f"timestamp {event_time.isoformat()} is more than "
                f"{self.max_future_skew.total_seconds():.0f}s ahead of the worker clock",
            )
        return event


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def trace_decoder(max_bytes: int, max_future_skew_seconds: float) -> EventDecoder[TraceEvent]:
    return EventDecoder(TRACE_DECODER, max_bytes, timedelta(seconds=max_future_skew_seconds))


def feedback_decoder(max_bytes: int, max_future_skew_seconds: float) -> EventDecoder[FeedbackEvent]:
    return EventDecoder(FEEDBACK_DECODER, max_bytes, timedelta(seconds=max_future_skew_seconds))
