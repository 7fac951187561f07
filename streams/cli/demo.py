"""``seismo demo``: the local broker, a worker and the generator for a minute, then status."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import typer
from rich.console import Console

from streams.cli.common import console, named_cluster, settings
from streams.cli.status import show_status
from streams.exceptions import SeismoError
from streams.settings import Settings


def _wait_for_api(url: str, worker: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SeismoError(f"the worker exited with code {worker.returncode}")
        try:
            _health(url, timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise SeismoError(f"the worker's API at {url} did not answer within {timeout:.0f}s")


def _health(api: str, timeout: float) -> dict:
    """The worker's health report; a 503 ("not progressing") is an answer too."""
    try:
        with urllib.request.urlopen(api + "/api/health", timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code != 503:
            raise
        return json.loads(exc.read())


def _written(api: str) -> float:
    return _health(api, timeout=5)["counters"].get("seismo_events_written_total", 0)


def _wait_until_written(api: str, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while _written(api) < n and time.monotonic() < deadline:
        time.sleep(0.5)


def demo(
    seconds: float = typer.Option(60.0, help="How long to generate traffic."),
    rate: float = typer.Option(50.0, help="Events per second."),
) -> None:
    """Local broker + worker + generator on the embedded ClickHouse, then `seismo status`."""
    run_demo(settings(), seconds, rate, console)


def run_demo(settings: Settings, seconds: float, rate: float, console: Console) -> None:
    # Imported here, as in every command: `seismo --help` should not load Kafka clients.
    from streams.kafka.admin import ensure_topics
    from streams.kafka.local_broker import LocalKafka
    from streams.testing.generator import GeneratorConfig, TrafficGenerator
    from streams.testing.publish import publish

    bootstrap = ",".join(settings.bootstrap_servers())
    if named_cluster(settings) is None:
        broker = LocalKafka(version=settings.kafka_version, port=settings.kafka_port)
        with console.status(f"starting Kafka {broker.version} from Maven jars …"):
            bootstrap = broker.up()
        console.print(
            f"Kafka {broker.version} up at {bootstrap} (it stays up: `seismo kafka down`)"
        )
    asyncio.run(
        ensure_topics(
            bootstrap,
            {
                settings.traces_topic: settings.topic_partitions,
                settings.feedback_topic: settings.topic_partitions,
            },
        )
    )
    env = {**os.environ, "SEISMO_KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    log_path = os.path.join(settings.data_dir, "demo-worker.log")
    os.makedirs(settings.data_dir, exist_ok=True)
    with open(log_path, "ab") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "streams", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        api = f"http://{settings.web_host}:{settings.web_port}"
        with console.status("starting the worker …"):
            _wait_for_api(api, worker)
        console.print(f"worker up (log: {log_path}); generating traffic for {seconds:.0f}s")
        n = int(seconds * rate)
        config = GeneratorConfig(
            start=datetime.now(UTC).replace(microsecond=0),
            events_per_second=rate,
            drift_at=seconds / 2,
        )
        with console.status(f"publishing {n} events at {rate:.0f}/s …"):
            asyncio.run(
                publish(
                    TrafficGenerator(config).events(n), bootstrap, settings.traces_topic, rate=rate
                )
            )
        with console.status("waiting for the worker to write the last batch …"):
            _wait_until_written(api, n)
        show_status(settings, minutes=60)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
