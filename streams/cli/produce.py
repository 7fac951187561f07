"""``seismo produce``: synthetic LLM traffic, to Kafka or to a JSON-lines file."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import typer

from streams.cli.common import err, settings
from streams.exceptions import ConfigError


def _offset_or_time(value: str | None, start: datetime) -> float | None:
    """``90``, ``90s``, ``5m`` (after the start) or an RFC 3339 time → seconds after start."""
    if value is None:
        return None
    units = {"s": 1, "m": 60, "h": 3600}
    text = value.strip()
    try:
        if text[-1] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError("incident time", f"{value!r} is neither 90s/5m nor RFC 3339") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - start).total_seconds()


def produce(
    n: int = typer.Option(1000, "--n", "-n", help="How many events."),
    rate: float = typer.Option(0.0, help="Publish at most this many events per second (0: max)."),
    events_per_second: float = typer.Option(
        50.0, help="Event-time spacing: event i is stamped start + i / this."
    ),
    out: Path | None = typer.Option(None, help="Write JSON lines here ('-' = stdout), no Kafka."),
    seed: int = typer.Option(0),
    start: str | None = typer.Option(None, help="Event time of the first event (RFC 3339)."),
    drift_at: str | None = typer.Option(
        None, help="Shift the prompt topic mix at 90s / 5m / time."
    ),
    drift_fraction: float = typer.Option(0.3, help="Share of new-topic prompts after --drift-at."),
    toxic_rate: float = typer.Option(0.0, help="Share of toxic prompts/completions."),
    latency_spike_at: str | None = typer.Option(None, help="Multiply latency from 90s / time."),
    latency_spike_factor: float = typer.Option(4.0),
    error_rate: float = typer.Option(0.01),
    topic: str | None = typer.Option(None, help="Target topic (default: traces_topic)."),
) -> None:
    """Generate synthetic LLM traffic, to Kafka or to a JSON-lines file."""
    from streams.testing.generator import GeneratorConfig, TrafficGenerator, to_json_line

    s = settings()
    first = (
        datetime.fromisoformat(start.replace("Z", "+00:00"))
        if start
        else datetime.now(UTC).replace(microsecond=0)
    )
    if first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    try:
        config = GeneratorConfig(
            seed=seed,
            start=first,
            events_per_second=events_per_second,
            drift_at=_offset_or_time(drift_at, first),
            drift_fraction=drift_fraction,
            toxic_rate=toxic_rate,
            latency_spike_at=_offset_or_time(latency_spike_at, first),
            latency_spike_factor=latency_spike_factor,
            error_rate=error_rate,
        )
    except ValueError as exc:
        raise ConfigError("produce", str(exc)) from None
    events = TrafficGenerator(config).events(n)
    if out is not None:
        sink = sys.stdout.buffer if str(out) == "-" else open(out, "wb")
        try:
            for event in events:
                sink.write(to_json_line(event))
        finally:
            if sink is not sys.stdout.buffer:
                sink.close()
        return
    from rich.progress import Progress

    from streams.testing.publish import publish

    target = topic or s.traces_topic
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task(f"publishing to {target}", total=n)
        sent = asyncio.run(
            publish(
                events,
                ",".join(s.bootstrap_servers()),
                target,
                rate=rate,
                on_sent=lambda k: progress.update(task, completed=k),
                **s.kafka_client_options(),
            )
        )
    err.print(f"published {sent} events to {target}")
