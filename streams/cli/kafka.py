"""``seismo kafka``: a local single-node broker from Maven Central jars."""

from __future__ import annotations

import typer

from streams.cli.common import console, named_cluster, settings

kafka_app = typer.Typer(help="A local single-node Kafka broker from Maven Central jars.")


def _local_kafka(version: str | None, port: int | None):
    from streams.kafka.local_broker import LocalKafka

    s = settings()
    return LocalKafka(version=version or s.kafka_version, port=port or s.kafka_port)


@kafka_app.command("up")
def kafka_up(
    version: str | None = typer.Option(None, help="Apache Kafka version (default 3.9.1)."),
    port: int | None = typer.Option(None, help="Broker port on 127.0.0.1 (default 9092)."),
) -> None:
    """Start the local broker (unless the settings name another cluster)."""
    external = named_cluster(settings())
    if external:
        console.print(f"kafka_bootstrap_servers names {external}: using it, starting nothing")
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
