"""The ``seismo`` command."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from streams.cli.grafana import grafana_app
from streams.cli.report import report
from streams.exceptions import ConfigError, SeismoError
from streams.settings import ENV_ALIASES, ENV_PREFIX, Settings, load_settings

app = typer.Typer(
    help="Seismo: real-time monitoring of LLM applications.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
kafka_app = typer.Typer(help="A local single-node Kafka broker from Maven Central jars.")
app.add_typer(kafka_app, name="kafka")
app.add_typer(grafana_app, name="grafana")
baseline_app = typer.Typer(help="Drift references: pin a baseline, show the active ones.")
app.add_typer(baseline_app, name="baseline")
# Off a terminal (pipes, CI logs) rich assumes 80 columns; the status table needs more.
console = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)


def settings() -> Settings:
    return load_settings()


# -- worker ----------------------------------------------------------------------------------
@app.command()
def worker() -> None:
    """Run a worker: consume the trace and feedback topics into ClickHouse."""
    from streams.service.worker import run

    run(settings())


# -- local Kafka -----------------------------------------------------------------------------
def _local_kafka(version: str | None, port: int | None):
    from streams.kafka.local_broker import LocalKafka

    s = settings()
    return LocalKafka(version=version or s.kafka_version, port=port or s.kafka_port)


@kafka_app.command("up")
def kafka_up(
    version: str | None = typer.Option(None, help="Apache Kafka version (default 3.9.1)."),
    port: int | None = typer.Option(None, help="Broker port on 127.0.0.1 (default 9092)."),
) -> None:
    """Start the local broker (unless KAFKA_BOOTSTRAP_SERVERS names a cluster)."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        console.print(f"KAFKA_BOOTSTRAP_SERVERS is set: using {external}, starting nothing")
        return
    broker = _local_kafka(version, port)
    with console.status(f"starting Kafka {broker.version} on {broker.bootstrap} …"):
        bootstrap = broker.up()
    console.print(f"Kafka {broker.version} is up at [bold]{bootstrap}[/] (pid {broker.pid()})")


@kafka_app.command("down")
def kafka_down(
    version: str | None = typer.Option(None), port: int | None = typer.Option(None)
) -> None:
    """Stop the local broker started by `seismo kafka up`."""
    broker = _local_kafka(version, port)
    console.print("stopped" if broker.down() else "no local broker was running")


@kafka_app.command("status")
def kafka_status(
    version: str | None = typer.Option(None), port: int | None = typer.Option(None)
) -> None:
    """Say whether the local broker runs and which topics it has."""
    from streams.kafka.admin import list_topics_sync

    broker = _local_kafka(version, port)
    pid = broker.pid()
    if pid is None:
        console.print(f"no local broker recorded for Kafka {broker.version} on port {broker.port}")
        raise typer.Exit(1)
    topics = list_topics_sync(broker.bootstrap)
    console.print(
        f"Kafka {broker.version} pid {pid} at {broker.bootstrap}; topics: "
        + (", ".join(sorted(topics)) or "none")
    )


# -- generator -------------------------------------------------------------------------------
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


@app.command()
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


# -- status ----------------------------------------------------------------------------------
STATUS_SQL = """
SELECT app, model, count() AS events, countIf(status = 'error') / count() AS error_rate,
       quantile(0.5)(latency_ms) AS p50_ms, quantile(0.95)(latency_ms) AS p95_ms,
       sum(total_tokens) AS tokens, sum(cost_usd) AS cost_usd
FROM events FINAL
WHERE timestamp >= now64(3) - toIntervalMinute({minutes:UInt32})
GROUP BY app, model
ORDER BY app, model
"""


@app.command()
def status(
    minutes: int = typer.Option(60, help="Look back this many minutes."),
    as_json: bool = typer.Option(False, "--json", help="Rows as JSON, for scripts."),
) -> None:
    """Per app and model over the last minutes: events, errors, latency, tokens, cost."""
    from streams.store.reader import StoreReader

    reader = StoreReader(settings())
    try:
        columns, rows = reader.query(STATUS_SQL, {"minutes": minutes})
    finally:
        reader.close()
    if as_json:
        print(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=str))
        return
    table = Table(title=f"Seismo — last {minutes} min")
    for name in ("app", "model", "events", "error rate", "p50 ms", "p95 ms", "tokens", "cost $"):
        table.add_column(name, justify="left" if name in ("app", "model") else "right")
    for app_name, model, count, error_rate, p50, p95, tokens, cost in rows:
        table.add_row(
            app_name,
            model,
            f"{count:,}",
            f"{error_rate:.1%}",
            f"{p50:,.0f}",
            f"{p95:,.0f}",
            f"{int(tokens or 0):,}",
            f"{float(cost or 0):.4f}",
        )
    if not rows:
        table.caption = "no events in this period"
    console.print(table)


@app.command()
def demo(
    seconds: float = typer.Option(60.0, help="How long to generate traffic."),
    rate: float = typer.Option(50.0, help="Events per second."),
) -> None:
    """Local broker + worker + generator on the embedded ClickHouse, then `seismo status`."""
    from streams.cli.demo import run_demo

    run_demo(settings(), seconds, rate, console)


@baseline_app.command("pin")
def baseline_pin(
    app_name: str = typer.Option(..., "--app"),
    model: str = typer.Option(...),
    start: str = typer.Option(..., "--from", help="RFC 3339 start of the baseline."),
    end: str = typer.Option(..., "--to", help="RFC 3339 end of the baseline."),
    prompt_version: str = typer.Option("", help="With split_by_prompt_version only."),
) -> None:
    """Compare APP/MODEL with its stored embeddings of [FROM, TO) (policy `pinned`)."""
    from streams.windows.baselines import pin

    body = {"app": app_name, "model": model, "from": start, "to": end,
            "prompt_version": prompt_version}
    try:
        where = pin(settings(), body)
    except ValueError as exc:
        raise ConfigError("baseline", str(exc)) from None
    s = settings()
    console.print(f"pinned {app_name}/{model} to {start} .. {end} (written by {where})")
    if s.reference_policy != "pinned":
        console.print(f"[yellow]note:[/] reference_policy is {s.reference_policy!r}; set "
                      "SEISMO_REFERENCE_POLICY=pinned for pins to take effect")


@baseline_app.command("show")
def baseline_show() -> None:
    """The reference each stream is compared with now."""
    from streams.windows.baselines import active_references

    table = Table(title="Active drift references")
    for name in ("stream", "policy", "source", "from", "to"):
        table.add_column(name)
    for ref in active_references(settings()):
        table.add_row(ref["stream"], ref["policy"], ref["source"], str(ref["from"] or "—"),
                      str(ref["to"] or "—"))
    console.print(table)


@app.command()
def forget(
    user_id: list[str] = typer.Option([], "--user-id", help="A user's id as the app sent it."),
    conversation_id: list[str] = typer.Option(
        [], "--conversation-id", help="A conversation's id as the app sent it."),
) -> None:
    """Delete every stored row of these users or conversations (an erasure request)."""
    from streams.store.forget import request_forget

    if not any(user_id) and not any(conversation_id):
        raise typer.BadParameter("name at least one non-empty user id or conversation id",
                                 param_hint="--user-id / --conversation-id")
    with console.status("deleting …"):
        removed, by = request_forget(settings(), user_id, conversation_id)
    table = Table(title="Rows removed")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in removed.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(f"deleted by {by}")


app.command("report")(report)


# -- entry point -----------------------------------------------------------------------------
def _setting_label(name: str) -> str:
    if name.isidentifier() and name.islower():
        env = ENV_PREFIX + name.upper()
        if name in ENV_ALIASES:
            env += " or " + ENV_ALIASES[name]
        return f"{name} ({env})"
    return name


def main() -> None:
    try:
        app()
    except ConfigError as exc:
        err.print(
            f"[red]error:[/] bad setting {_setting_label(exc.setting)}: "
            f"{str(exc).split(': ', 1)[1]}",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(2)
    except SeismoError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
