"""A batch of record values to what the pipeline writes: encoded rows, rejections, counters.

Preparing a batch (decode, signal scanners, row building) is most of the ingest path's CPU,
and it needs nothing but the record values and a clock reading: no Kafka, no ClickHouse. So
it is one function of picklable inputs, :class:`Preparer`, built from a picklable
:class:`PrepareConfig`, that the worker runs either in its event loop or in an ingest process
of its own (:mod:`streams.ingest.pool`), with the same results either way: the parent keeps
the records, publishes rejected ones to the DLQ by their index, writes the rows (encoded for
ClickHouse here, :mod:`streams.store.native`) and commits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from operator import itemgetter
from typing import Any

from detectors.scanners.redaction import Redactor
from schemas.tables import EVENT_COLUMNS, EVENT_SCHEMA, FEEDBACK_SCHEMA
from streams.ingest.decode import Rejected, feedback_decoder, trace_decoder
from streams.ingest.pricing import PriceTable
from streams.ingest.rows import feedback_row, trace_rows
from streams.ingest.scan import EventScanner
from streams.settings import ModelPrice, Settings
from streams.store.native import NativeBlock, NativeEncoder

SOURCES = ("trace", "otlp", "feedback")
"""What a topic carries: trace events, OTLP export requests (each a list of trace events), or
feedback events."""

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class PrepareConfig:
    """Everything a process needs to build the decoders, the scanner and the price table.

    ``redaction_salt`` is the deployment's (:func:`streams.store.salt.resolve_salt`), not only the
    configured one: every ingest process keys ``hash`` tags and user pseudonyms alike.
    """

    max_event_bytes: int
    max_future_skew_seconds: float
    redaction_policy: str
    redaction_salt: str = field(repr=False)
    toxicity_model_dir: str
    prices: Mapping[str, ModelPrice]
    otlp_encoding: str
    max_otlp_bytes: int
    prompt_embedding_text: str = "last_user"

    @classmethod
    def from_settings(cls, settings: Settings, salt: str | None = None) -> PrepareConfig:
        """The configuration of ``settings``, keyed by ``salt`` (default: the configured
        ``redaction_salt``)."""
        return cls(
            settings.max_event_bytes, settings.max_future_skew_seconds, settings.redaction_policy,
            settings.redaction_salt if salt is None else salt, settings.toxicity_model_dir,
            dict(settings.prices), settings.otlp_encoding, settings.max_otlp_bytes,
            settings.prompt_embedding_text,
        )


# Where an event row's window clock fields are: (app, model, prompt_version, timestamp).
_STREAM_TIME = itemgetter(*(EVENT_COLUMNS.index(c)
                            for c in ("app", "model", "prompt_version", "timestamp")))


@dataclass(frozen=True, slots=True)
class Prepared:
    """One batch, prepared: its rows encoded for the table (see :mod:`streams.store.native`), each
    event row's ``(app, model, prompt_version, timestamp)`` for the window clock (none for
    feedback), the rejected records (index in the batch, why), and counters the decoders
    bumped, as ``{(metric, labels): amount}`` (the OTLP spans skipped or rejected), for the
    parent's metrics."""

    block: NativeBlock
    stream_times: list[tuple[str, str, str, datetime]]
    rejected: list[tuple[int, Rejected]]
    counters: dict[tuple[str, Labels], float]


# What a pipeline calls to prepare a batch: (values, now) -> the prepared batch, awaited when
# the batch is written (it may be under way in an ingest process meanwhile).
PrepareFn = Callable[[Sequence[bytes | None], datetime], Awaitable[Prepared]]


@dataclass(frozen=True, slots=True)
class _OtlpRecord:
    """An OTLP record's events, and what of it goes to the DLQ although the rest is stored:
    one copy of the record per reason its spans were rejected for (``otlp_unmapped``,
    ``otlp_span_schema``, ...), so no span is dropped without a trace."""

    events: list[Any]
    dead_letters: list[Rejected]


def _one_per_reason(spans: list[Rejected]) -> list[Rejected]:
    by_reason: dict[str, list[str]] = {}
    for span in spans:
        by_reason.setdefault(span.reason, []).append(span.detail)
    return [Rejected(reason, f"{len(details)} span(s) of this record: " + " | ".join(details))
            for reason, details in by_reason.items()]


class Preparer:
    """Decode and build the rows of a batch of one source (see :data:`SOURCES`).

    The scanner (and its toxicity model) is built on first use: a worker whose trace and OTLP
    batches go to ingest processes prepares only feedback in its own loop.
    """

    def __init__(self, config: PrepareConfig) -> None:
        self.config = config
        self.prices = PriceTable(config.prices)
        self._scanner: EventScanner | None = None
        self._redactor: Redactor | None = None
        self._trace = trace_decoder(config.max_event_bytes, config.max_future_skew_seconds)
        self._feedback = feedback_decoder(config.max_event_bytes, config.max_future_skew_seconds)
        self._skew = timedelta(seconds=config.max_future_skew_seconds)
        self._event_encoder = NativeEncoder(EVENT_SCHEMA)
        self._feedback_encoder = NativeEncoder(FEEDBACK_SCHEMA)

    @property
    def redactor(self) -> Redactor:
        if self._redactor is None:
            self._redactor = Redactor(self.config.redaction_policy, self.config.redaction_salt)
        return self._redactor

    @property
    def scanner(self) -> EventScanner:
        if self._scanner is None:
            self._scanner = EventScanner(self.redactor, self.config.toxicity_model_dir,
                                         embedded_prompt=self.config.prompt_embedding_text)
        return self._scanner

    def __call__(self, source: str, values: Sequence[bytes | None], now: datetime) -> Prepared:
        counters: Counter[tuple[str, Labels]] = Counter()
        decode = {"trace": self._trace, "feedback": self._feedback}.get(source)
        if decode is None:
            if source != "otlp":
                raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
            decode = partial(self._otlp, counters=counters)
        rejected: list[tuple[int, Rejected]] = []
        valid: list[Any] = []
        for index, raw in enumerate(values):
            result = decode(raw, now)
            if isinstance(result, Rejected):
                rejected.append((index, result))
            elif isinstance(result, _OtlpRecord):  # an export request: many events
                valid.extend(result.events)
                rejected.extend((index, r) for r in result.dead_letters)
            else:
                valid.append(result)
        if source == "feedback":
            rows = [feedback_row(e, now, self.redactor) for e in valid]
            block, times = self._feedback_encoder.encode(rows), []
        else:
            rows = trace_rows(valid, now, self.prices, self.scanner, source)
            block, times = self._event_encoder.encode(rows), list(map(_STREAM_TIME, rows))
        return Prepared(block, times, rejected, dict(counters))

    def _otlp(self, raw: bytes | None, now: datetime,
              counters: Counter[tuple[str, Labels]]) -> Any:
        from streams.ingest.otlp import decode_otlp

        result = decode_otlp(raw, self.config.otlp_encoding,  # type: ignore[arg-type]
                             max_bytes=self.config.max_otlp_bytes, now=now,
                             max_future_skew=self._skew)
        if isinstance(result, Rejected):
            return result
        for kind, count in result.skipped.items():
            counters["seismo_otlp_spans_skipped_total", (("kind", kind),)] += count
        for span in result.rejected_spans:
            counters["seismo_otlp_spans_rejected_total", (("reason", span.reason),)] += 1
        return _OtlpRecord(result.events, _one_per_reason(result.rejected_spans))

    def in_loop(self, source: str) -> PrepareFn:
        """This preparer as a pipeline's ``prepare``, run in the caller's event loop when the
        batch's turn to be written comes (``ingest_processes=0``: the path as it was before
        ingest processes, one batch at a time)."""
        return lambda values, now: _Deferred(partial(self, source, values, now))


class _Deferred:
    """An awaitable that computes its value when awaited; one never awaited (a batch dropped
    for replay) costs nothing and warns about nothing, unlike a coroutine."""

    def __init__(self, compute: Callable[[], Prepared]) -> None:
        self._compute = compute

    def __await__(self) -> Generator[Any, None, Prepared]:
        return self._compute()
        yield  # unreachable: makes this a generator, as __await__ must return an iterator
