"""The worker's counters, rendered in the Prometheus text format for ``/metrics``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

HELP = {
    "seismo_records_total": "Kafka records consumed, by topic.",
    "seismo_events_written_total": "Valid events written to ClickHouse, by table.",
    "seismo_dlq_total": "Records sent to the dead-letter topic, by reason.",
    "seismo_poison_records_total": "Records dead-lettered as poison (their batch failed "
    "only while they were in it; the rest of the batch was stored), by topic.",
    "seismo_sink_failures_total": "Failed ClickHouse inserts (each retried).",
    "seismo_batches_total": "Batches processed.",
    "seismo_ingest_failures_total": "Ingest consumer failures, by stage (fetch or process: "
    "the batch is taken again; consumer: a new consumer is started).",
    "seismo_commit_failures_total": "Offset commits that failed after their batch was "
    "written (the records are replayed; storage keeps one row per event).",
    "seismo_windows_closed_total": "Windows closed (aggregates and tests written).",
    "seismo_window_failures_total": "Window closes that failed and were retried.",
    "seismo_alert_notifications_total": "Alert notifications, by notifier and outcome.",
    "seismo_alert_records_total": "Alert transitions read by the delivery agent, by outcome.",
    "seismo_otlp_spans_skipped_total": "OTLP spans that are not model calls, skipped, by kind "
    "(chain, tool, workflow, other, ...).",
    "seismo_otlp_spans_rejected_total": "Model-call spans that did not map to a valid event "
    "(dead-lettered), by reason (otlp_unmapped, otlp_span_schema, ...).",
}
GAUGE_HELP = {
    "seismo_consumer_lag": "Records published to an event-topic partition and not yet "
    "committed by the worker's group (-1: the broker could not be asked).",
    "seismo_stalled_partitions": "Event-topic partitions whose committed offset stood still "
    "for stall_seconds while their lag grew (/api/health answers 503).",
}


class Metrics:
    """Counters keyed by (name, label tuple)."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self._gauges: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        self._counts[(name, tuple(sorted(labels.items())))] += amount

    def set(self, name: str, value: float, **labels: str) -> None:
        self._gauges[(name, tuple(sorted(labels.items())))] = value

    def value(self, name: str, **labels: str) -> float:
        if labels:
            return self._counts[(name, tuple(sorted(labels.items())))]
        return sum(v for (n, _), v in self._counts.items() if n == name)

    def total(self, name: str, **labels: str) -> float:
        """Sum of the counter ``name`` over every label set that includes ``labels``."""
        wanted = set(labels.items())
        return sum(v for (n, lbl), v in self._counts.items() if n == name and wanted <= set(lbl))

    def by_label(self, name: str, label: str) -> dict[str, float]:
        """The counter ``name`` summed per value of ``label`` (series without it: "")."""
        out: dict[str, float] = {}
        for (n, labels), v in self._counts.items():
            if n == name:
                key = dict(labels).get(label, "")
                out[key] = out.get(key, 0.0) + v
        return out

    def gauges(self, name: str) -> list[float]:
        """The current values of the gauge ``name``, one per label set."""
        return [v for (n, _), v in self._gauges.items() if n == name]

    def snapshot(self) -> dict[str, float]:
        return {name: self.value(name) for name in sorted({n for n, _ in self._counts})}

    def render(self) -> str:
        lines: list[str] = []
        for kind, values, helps in (("counter", self._counts, HELP),
                                    ("gauge", self._gauges, GAUGE_HELP)):
            for name in sorted({n for n, _ in values} | set(helps)):
                lines.append(f"# HELP {name} {helps.get(name, name)}")
                lines.append(f"# TYPE {name} {kind}")
                series: Iterable = [(lbl, v) for (n, lbl), v in values.items() if n == name]
                for labels, value in sorted(series):
                    text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
                    lines.append(f"{name}{{{text}}} {value:g}" if text else f"{name} {value:g}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
