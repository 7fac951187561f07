"""Encoding of events for Kafka records and JSON Lines files."""

from __future__ import annotations

from typing import Any

import msgspec

_encoder = msgspec.json.Encoder()


def to_json_line(event: dict[str, Any]) -> bytes:
    """Encode an event as one line of UTF-8 JSON, terminated by ``b"\\n"``.

    Keys keep their order and non-ASCII text is written as is. JSON decoders accept the
    trailing newline, so the same bytes serve as a Kafka record value and a JSONL line.

    Examples
    --------
    >>> to_json_line({"app": "support-bot", "latency_ms": 812.5})
    b'{"app":"support-bot","latency_ms":812.5}\\n'
    """
    return _encoder.encode(event) + b"\n"
