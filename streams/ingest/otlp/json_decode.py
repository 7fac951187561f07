"""OTLP/JSON (the kafka exporter's ``otlp_json`` encoding) to :mod:`streams.ingest.otlp.model`.

One msgspec pass decodes and checks the shape. ``strict=False`` is what the OTLP/JSON mapping
needs: 64-bit integers (``intValue``, ``startTimeUnixNano``) arrive as strings and doubles may
be ``"NaN"``/``"Infinity"``; string fields still refuse numbers and the like.
"""

from __future__ import annotations

from typing import Any

import msgspec

from streams.ingest.otlp.exceptions import OtlpFormatError
from streams.ingest.otlp.model import ExportLogsServiceRequest, ExportTraceServiceRequest

INVALID_JSON = "otlp_invalid_json"
SCHEMA = "otlp_schema"

_DECODERS = {root: msgspec.json.Decoder(root, strict=False)
             for root in (ExportTraceServiceRequest, ExportLogsServiceRequest)}


def decode_request(raw: bytes, root: type = ExportTraceServiceRequest) -> Any:
    """Decode one ``ExportTraceServiceRequest`` (or ``root``, e.g. the logs request);
    raises :class:`OtlpFormatError`."""
    try:
        return _DECODERS[root].decode(raw)
    except msgspec.ValidationError as exc:
        raise OtlpFormatError(SCHEMA, str(exc)) from None
    except msgspec.DecodeError as exc:
        raise OtlpFormatError(INVALID_JSON, _utf8_hint(raw) or str(exc)) from None
    except RecursionError:
        raise OtlpFormatError(INVALID_JSON, "JSON nested too deeply") from None


def _utf8_hint(raw: bytes) -> str | None:
    """Say "not UTF-8" when that is the cause; msgspec reports it as an invalid character."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 at byte {exc.start}"
    return None
