"""Errors inside the OTLP decoders; :func:`streams.ingest.otlp.decode_otlp` turns them into
rejections."""

from __future__ import annotations

from streams.exceptions import SeismoError


class OtlpFormatError(SeismoError):
    """A payload is not a well-formed ExportTraceServiceRequest.

    ``reason`` is the stable DLQ reason code, ``detail`` says what and where.
    """

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


class SpanMappingError(SeismoError):
    """One GenAI span cannot become a trace event (the rest of its batch can)."""
