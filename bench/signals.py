"""Events per second of the per-event signal path in one process, and where the time goes.

Run: ``.venv/bin/python bench/signals.py [--events 10000] [--batch 2000] [--repeats 3]``.

The path is what a worker does to every trace record before it writes a row, minus Kafka and
ClickHouse: decode and validate (msgspec), then :func:`streams.ingest.rows.trace_rows` (toxicity,
injection patterns, redaction with PII and secret counts, refusals, derived fields). Records
are processed in batches of ``--batch`` like the worker's ``batch_size``. The breakdown times
each scanner alone on the same batches, calling the same objects ``EventScanner.scan`` calls,
in CPU microseconds per event (less disturbed by other work on the machine than wall time),
on every text: without the scanner's cache of repeated texts, whose hit rates are printed, so
the stages can add up to more than ``trace_rows``. Every run of the whole path starts with a
fresh scanner (an empty cache): the runs see the same texts, and a warm cache would count
repeats across runs that one pass over the traffic does not have. Every figure is the best of
``--repeats`` runs, all stages interleaved, after a warm-up.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from common import (
    Row,
    best_times,
    encoded_events,
    load_average,
    print_machine,
    print_table,
)

from detectors.scanners.redaction import Redactor
from schemas.events import TraceEvent
from streams.ingest.decode import trace_decoder
from streams.ingest.pricing import PriceTable
from streams.ingest.rows import event_row, trace_rows
from streams.ingest.scan import EventScan, EventScanner
from streams.settings import Settings

TARGET_EVENTS_PER_SECOND = 10_000  # the per-worker target for the cheap path


def batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def stage_timers(
    scanner: EventScanner, prices: PriceTable, now: datetime
) -> dict[str, Callable[[Sequence[TraceEvent], list[EventScan]], object]]:
    """One callable per stage of ``EventScanner.scan`` + ``event_row``, over one batch.

    Each takes the batch and its already computed signals (only row building uses them).
    """

    def texts(events: Sequence[TraceEvent]) -> tuple[list[str], list[str]]:
        return [e.prompt_text() for e in events], [e.completion or "" for e in events]

    def toxicity(events: Sequence[TraceEvent], _: list[EventScan]) -> object:
        prompts, completions = texts(events)
        return scanner.toxicity.score_many(prompts + completions)

    def injection(events: Sequence[TraceEvent], _: list[EventScan]) -> object:
        return scanner.injection.score_many(texts(events)[0])

    def redaction(events: Sequence[TraceEvent], _: list[EventScan]) -> object:
        prompts, completions = texts(events)
        redact = scanner.text_signals
        return [(redact(p, 0.0, 0.0), redact(c, 0.0, 0.0),
                 e.reference and redact(e.reference, 0.0, 0.0))
                for p, c, e in zip(prompts, completions, events, strict=True)]

    def refusal(events: Sequence[TraceEvent], _: list[EventScan]) -> object:
        return [scanner.refusals.is_refusal(c) for c in texts(events)[1]]

    def rows(events: Sequence[TraceEvent], signals: list[EventScan]) -> object:
        return [event_row(e, now, prices, s) for e, s in zip(events, signals, strict=True)]

    return {
        "toxicity (profanity-check, prompts + completions)": toxicity,
        "redaction (secrets + PII scan, tags; prompt, completion, reference if any)": redaction,
        "injection patterns": injection,
        "refusal patterns": refusal,
        "row building (derived fields, cost, tuple)": rows,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="generated events")
    parser.add_argument("--batch", type=int, default=2000, help="events per batch")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure")
    parser.add_argument("--policy", default="redact", choices=("raw", "redact", "hash"))
    parser.add_argument("--typographic", action="store_true",
                        help="curly apostrophes and dashes in every text, as in many models' "
                             "answers: the scanners' paths for non-ASCII text")
    return parser.parse_args(argv)


def generated(args: argparse.Namespace) -> list[bytes]:
    """The encoded events, with typographic quotes and dashes if asked."""
    raw = [value for _, value in encoded_events(args.events)]
    if args.typographic:  # the JSON stays valid: neither character is escaped in it
        raw = [r.replace(b"'", "\u2019".encode()).replace(b" - ", " \u2014 ".encode())
               for r in raw]
    return raw


def new_scanner(policy: str) -> EventScanner:
    """A scanner with an empty cache of text results."""
    return EventScanner(Redactor(policy, salt="bench"), "")


def time_runs(
    args: argparse.Namespace, raw: list[bytes], events: list[TraceEvent], decode: Callable,
    now: datetime, prices: PriceTable, scanner: EventScanner,
) -> tuple[dict[str, Any], list[str]]:
    """The best times of the whole path, decode, trace_rows and each stage alone; the names
    of the stages."""
    raw_batches, event_batches = batches(raw, args.batch), batches(events, args.batch)
    signal_batches = [scanner.scan(batch) for batch in event_batches]

    def over_batches(stage: Callable[..., object]) -> Callable[[], None]:
        def run() -> None:
            for batch, signals in zip(event_batches, signal_batches, strict=True):
                stage(batch, signals)

        return run

    def whole() -> None:
        fresh = new_scanner(args.policy)
        for batch in raw_batches:
            trace_rows([decode(r, now) for r in batch], now, prices, fresh)

    def decode_all() -> None:
        for batch in raw_batches:
            [decode(r, now) for r in batch]

    def rows_all() -> None:
        fresh = new_scanner(args.policy)
        for batch in event_batches:
            trace_rows(batch, now, prices, fresh)

    stages = stage_timers(scanner, prices, now)
    runs = {"whole": whole, "decode": decode_all, "trace_rows": rows_all}
    runs |= {name: over_batches(stage) for name, stage in stages.items()}
    return best_times(runs, args.repeats), list(stages)


def result_rows(
    args: argparse.Namespace, best: dict[str, Any], stages: list[str], n: int,
    scanner: EventScanner, events: list[TraceEvent],
) -> list[Row]:
    """The whole path against the target, then each stage's share, the caches' hit rates and
    the share of non-ASCII texts."""
    rate = n / best["whole"].wall
    cpu_rows = best["trace_rows"].cpu

    def per_event(name: str, of: float, what: str, label: str | None = None) -> Row:
        cpu = best[name].cpu
        return Row(label or name, cpu / n * 1e6, "us/event", f"{cpu / of:.0%} of {what}")

    rows = [
        Row("whole path: decode + trace_rows", rate, "events/s",
            f"{rate / TARGET_EVENTS_PER_SECOND:.2f} x the 10,000/s target, one core; "
            f"{best['whole'].cpu / n * 1e6:.0f} us CPU/event"),
        per_event("decode", best["whole"].cpu, "the whole (CPU)",
                  "  decode + validate (msgspec)"),
        per_event("trace_rows", best["whole"].cpu, "the whole (CPU)",
                  "  trace_rows (signals + rows)"),
    ]
    stage_rows = [per_event(name, cpu_rows, "trace_rows (CPU)", f"    {name}") for name in stages]
    stage_rows.sort(key=lambda row: -row.value)
    for role, cache in (("prompts", scanner.prompts), ("completions", scanner.completions)):
        stage_rows.append(Row(f"    cache hits, {role} (one pass, batches of {args.batch})",
                              cache.hits / (cache.hits + cache.misses), "share",
                              f"{cache.size} texts kept"))
    texts = [t for e in events for t in (e.prompt_text(), e.completion or "")]
    stage_rows.append(Row("    prompts and completions with non-ASCII characters",
                          sum(not t.isascii() for t in texts) / len(texts), "share",
                          "see --typographic"))
    return rows + stage_rows


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print_machine(f"signal path: {args.events} generated events in batches of {args.batch}, "
                  f"redaction policy {args.policy}"
                  f"{', typographic quotes and dashes' if args.typographic else ''}; "
                  f"best of {args.repeats} interleaved runs after a warm-up")
    raw = generated(args)
    settings = Settings()
    decode = trace_decoder(settings.max_event_bytes, settings.max_future_skew_seconds)
    now = datetime.now(UTC)
    scanner = new_scanner(args.policy)
    prices = PriceTable(settings.prices)
    events = [decode(r, now) for r in raw]
    assert all(isinstance(e, TraceEvent) for e in events), "the generator made an invalid event"
    best, stages = time_runs(args, raw, events, decode, now, prices, scanner)
    print_table(result_rows(args, best, stages, len(raw), scanner, events))
    print(f"load average {load_average()} at the end")


if __name__ == "__main__":
    main()
