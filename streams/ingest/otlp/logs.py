"""GenAI events carried as OTLP log records, read as the content of the spans they belong to.

openai-v2's default content capture and OpenLLMetry's events mode record prompts and
completions not on the span but as log records: ``gen_ai.{system,user,assistant,tool}.message``
and ``gen_ai.choice`` events whose body holds the message (or one
``gen_ai.client.inference.operation.details`` event carrying the semconv message attributes),
tied to their span by trace and span id. The Collector exports them to a logs topic of their
own (the kafka exporter's logs output, ``otlp_proto`` or ``otlp_json``). :func:`decode_logs`
reads one record of that topic into the content of each span it names; a log record is read
exactly as a span event of the same name would be (:mod:`.content`), its body's fields standing
for the event's attributes. :mod:`streams.ingest.log_join` joins the content to the stored event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from streams.ingest.decode import Rejected
from streams.ingest.otlp.batch import Encoding, read_request
from streams.ingest.otlp.content import Message, completion_of, prompt_of
from streams.ingest.otlp.genai import SPAN_ID, TRACE_ID, UNKNOWN_SERVICE, event_id
from streams.ingest.otlp.model import ExportLogsServiceRequest, LogRecord
from streams.ingest.otlp.spans import EventRecord, SpanRecord, any_value, attributes

# The older Events API put the event's name in an attribute instead of LogRecord.event_name.
_EVENT_NAME_ATTRIBUTE = "event.name"
_GENAI = "gen_ai."


@dataclass(slots=True)
class SpanContent:
    """The GenAI log records of one span, as events; more may come in later records."""

    app: str
    event_id: str
    events: list[EventRecord] = field(default_factory=list)

    def content(self) -> tuple[str | list[Message], str | None]:
        """(prompt, completion) as the span would have them had it carried these events:
        ``""`` and ``None`` where the records hold none."""
        carrier = SpanRecord({}, "", "", "", "", "", "", 0, 0, {}, tuple(self.events), 0, "")
        return prompt_of(carrier), completion_of(carrier)


@dataclass(slots=True)
class LogBatch:
    """One logs record's content by event id, and how many of its log records were not GenAI
    events of a span (an application's own logs, events without trace context)."""

    spans: dict[str, SpanContent] = field(default_factory=dict)
    skipped: int = 0


def decode_logs(raw: bytes | None, encoding: Encoding = "auto", *,
                max_bytes: int | None = None) -> LogBatch | Rejected:
    """Decode one logs record (an ``ExportLogsServiceRequest``); never raises on bad input."""
    request = read_request(raw, encoding, max_bytes, ExportLogsServiceRequest)
    if isinstance(request, Rejected):
        return request
    batch = LogBatch()
    for resource_logs in request.resource_logs:
        resource = attributes(resource_logs.resource.attributes) if resource_logs.resource else {}
        app = resource.get("service.name") or UNKNOWN_SERVICE
        records = (r for scope in resource_logs.scope_logs for r in scope.log_records)
        batch.skipped += _add(batch.spans, str(app), records)
    return batch


def _add(spans: dict[str, SpanContent], app: str, records: Iterable[LogRecord]) -> int:
    skipped = 0
    for record in records:
        event = as_event(record)
        trace_id, span_id = record.trace_id.lower(), record.span_id.lower()
        if (event is None or not TRACE_ID.match(trace_id) or not SPAN_ID.match(span_id)
                or not trace_id.strip("0") or not span_id.strip("0")):
            skipped += 1
            continue
        key = event_id(trace_id, span_id)
        spans.setdefault(key, SpanContent(app, key)).events.append(event)
    return skipped


def as_event(record: LogRecord) -> EventRecord | None:
    """A GenAI log record as the span event it stands for; ``None`` for any other record."""
    attrs: dict[str, Any] = attributes(record.attributes)
    name = record.event_name or attrs.get(_EVENT_NAME_ATTRIBUTE)
    if not isinstance(name, str) or not name.startswith(_GENAI):
        return None
    body = any_value(record.body)
    if isinstance(body, dict):
        attrs.update(body)
    elif body is not None:
        attrs["content"] = body
    return EventRecord(name, record.time_unix_nano or record.observed_time_unix_nano, attrs)
