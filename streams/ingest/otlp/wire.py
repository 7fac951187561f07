"""The protobuf wire format, just enough to walk OTLP messages: tags, varints, lengths.

Reference: https://protobuf.dev/programming-guides/encoding/. Every read is bounds-checked and
raises :class:`WireError` on malformed input, never ``IndexError`` or a silent misread.
"""

from __future__ import annotations

from collections.abc import Iterator

from streams.exceptions import SeismoError

VARINT = 0
I64 = 1
LEN = 2
I32 = 5

# A varint carries at most 64 bits, i.e. at most ten 7-bit groups.
_MAX_VARINT_BYTES = 10
_FIXED_SIZE = {I64: 8, I32: 4}

Field = tuple[int, int, int | memoryview]


class WireError(SeismoError):
    """The bytes break the protobuf wire format; the message says where."""


def read_varint(buf: memoryview, pos: int) -> tuple[int, int]:
    """The unsigned varint at ``pos`` and the position after it."""
    value = 0
    for i in range(_MAX_VARINT_BYTES):
        if pos + i >= len(buf):
            raise WireError(f"truncated varint at byte {pos}")
        byte = buf[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if value >> 64:
                raise WireError(f"varint at byte {pos} exceeds 64 bits")
            return value, pos + i + 1
    raise WireError(f"varint at byte {pos} is longer than {_MAX_VARINT_BYTES} bytes")


def iter_fields(buf: memoryview) -> Iterator[Field]:
    """``(field number, wire type, value)`` for each field of one message, in order.

    The value is an ``int`` for varints and a ``memoryview`` of the payload for
    length-delimited and fixed-width fields. Groups (wire types 3 and 4) are deprecated and
    appear nowhere in OTLP, so meeting one means the bytes are not OTLP.
    """
    pos, end = 0, len(buf)
    while pos < end:
        start = pos
        tag, pos = read_varint(buf, pos)
        number, wire_type = tag >> 3, tag & 0x7
        if number == 0:
            raise WireError(f"field number 0 at byte {start}")
        if wire_type == VARINT:
            value, pos = read_varint(buf, pos)
            yield number, wire_type, value
            continue
        if wire_type == LEN:
            size, pos = read_varint(buf, pos)
        elif wire_type in _FIXED_SIZE:
            size = _FIXED_SIZE[wire_type]
        else:
            raise WireError(f"wire type {wire_type} (field {number}) at byte {start}")
        if pos + size > end:
            raise WireError(f"field {number} at byte {start} runs past the end of its message")
        yield number, wire_type, buf[pos : pos + size]
        pos += size


def to_int64(value: int) -> int:
    """A varint read as a two's-complement ``int64`` (negative values take ten bytes)."""
    return value - (1 << 64) if value >> 63 else value
