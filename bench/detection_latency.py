"""Seconds from a drift's onset in the stream to the firing notification at on-call's receiver.

Run: ``.venv/bin/python bench/detection_latency.py [--window 10] [--rate 15] [--stable 120]
[--embedding-backend torch]``.

Everything is real and live: a local Kafka broker (``KAFKA_BOOTSTRAP_SERVERS`` if set, else the
jar broker on free ports), one worker process (``tests/support/workers.py``'s ``Deployment``),
Prometheus Alertmanager (``streams/testing/alertmanager.py``, group_wait 1 s) posting to an HTTP
receiver, or the worker's own webhook notifier when no Alertmanager binary is installed.

Traffic is published in real time, each event when the wall clock reaches its timestamp (event
time = wall time), from one app: ``--stable`` seconds of the usual topic mix (the first windows
become the reference), then from the onset, aligned to a window boundary, ``drift_fraction``
of the prompts on a new topic -- until the firing notification arrives. The latency is from
the publication of the first event at or after the onset to the receiver's arrival time.

What bounds it from below: the rule needs ``for_windows`` drifted windows in a row, and a
window closes once an event ``allowed_lateness`` past its end arrives; so the floor is
``for_windows x window + allowed_lateness``. The rest is the close check, the embedding and
permutation test of the closing window, and the notification path. The breakdown printed
beside it comes from the worker's ``drift`` table (``computed_at`` of each window after the
onset).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from common import Row, load_average, print_machine, print_table
from throughput_worker import free_port, start_broker

from streams.alerting.rules import load_rules
from streams.settings import Settings
from streams.testing.alertmanager import Alertmanager, alertmanager_binary
from streams.testing.generator import GeneratorConfig, TrafficGenerator, to_json_line
from streams.testing.publish import stream_key
from streams.testing.receivers import HttpReceiver
from tests.support.workers import Deployment

os.environ.setdefault("HF_HUB_OFFLINE", "1")

RULE = "PromptEmbeddingDrift"
APP = "support-bot"
LATENESS_SECONDS = 1.0


def worker_env(window: float, backend: str) -> dict[str, str]:
    """Small windows and samples, so that a run takes a few minutes on 2 cores."""
    return {
        "SEISMO_WINDOW_SECONDS": str(window),
        "SEISMO_ALLOWED_LATENESS_SECONDS": str(LATENESS_SECONDS),
        "SEISMO_IDLE_CLOSE_SECONDS": "3",
        "SEISMO_REFERENCE_EVENTS": "150",
        "SEISMO_DRIFT_FIELDS": "prompt",
        "SEISMO_EMBEDDING_SAMPLE": "60",
        "SEISMO_REFERENCE_SAMPLE": "150",
        "SEISMO_BATCH_SECONDS": "0.5",
        "SEISMO_EMBEDDING_BACKEND": backend,
    }


def firing_at(receiver: HttpReceiver) -> float | None:
    """Arrival time of the first firing notification of :data:`RULE`, if one came."""
    for request in receiver.received:
        body = request.json()
        for alert in body.get("alerts", [body]):  # Alertmanager's batch, or Seismo's webhook
            labels = alert.get("labels", {})
            status = alert.get("status", alert.get("state"))  # Alertmanager's, Seismo's
            if labels.get("alertname") == RULE and status == "firing":
                return request.at
    return None


async def publish_live(
    bootstrap: str, topic: str, config: GeneratorConfig, onset: float, receiver: HttpReceiver,
    timeout: float,
) -> tuple[float, float | None, int]:
    """Publish events at their timestamps until the firing arrives; returns the wall time the
    first event at or after ``onset`` was sent, the firing arrival, and the events sent."""
    total = onset - config.start.timestamp() + timeout  # seconds of traffic at most
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    onset_sent: float | None = None
    sent = 0
    try:
        deadline = onset + timeout
        for event in TrafficGenerator(config).events(int(config.events_per_second * total)):
            stamp = datetime.fromisoformat(str(event["timestamp"])).timestamp()
            await asyncio.sleep(max(0.0, stamp - time.time()))
            await producer.send(topic, to_json_line(event), key=stream_key(event))
            sent += 1
            if stamp >= onset and onset_sent is None:
                onset_sent = time.time()
                print(f"onset: first shifted event published at {onset_sent - onset:+.2f} s "
                      "from its event time", flush=True)
            if sent % 50 == 0 and (fired := firing_at(receiver)) is not None:
                return onset_sent, fired, sent
            if time.time() > deadline:
                break
    finally:
        await producer.stop()
    assert onset_sent is not None, "the traffic ended before the onset"
    return onset_sent, None, sent


@dataclass(frozen=True)
class Trial:
    """What one live run saw: the onset, when its first event went out, the firing's arrival
    (None if none came), the events published and the drift rows per window and model."""

    onset: float
    onset_sent: float
    fired: float | None
    sent: int
    windows: list


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=10.0, help="window length, seconds")
    parser.add_argument("--rate", type=float, default=15.0, help="events per second")
    parser.add_argument("--stable", type=float, default=120.0,
                        help="seconds of stable traffic before the onset (reference + windows)")
    parser.add_argument("--drift-fraction", type=float, default=0.3,
                        help="share of prompts on the new topic after the onset")
    parser.add_argument("--embedding-backend", default="torch", choices=("torch", "onnx-int8"))
    parser.add_argument("--timeout", type=float, default=240.0,
                        help="give up this many seconds after the onset")
    parser.add_argument("--kafka-version", default="3.9.1")
    return parser.parse_args(argv)


def run_trial(args: argparse.Namespace, root: Path) -> Trial:
    """Broker, receiver, Alertmanager (if installed) and one worker, live traffic until the
    firing; everything stopped again."""
    broker = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        broker = start_broker(args.kafka_version, root / "kafka")
        bootstrap = broker.bootstrap
    receiver = HttpReceiver().start()
    binary = alertmanager_binary()
    manager = (Alertmanager(binary=binary, root=root / "alertmanager",
                            webhook_url=receiver.url).start() if binary else None)
    deployment = Deployment(bootstrap=bootstrap, root=root, web_port=free_port())
    deployment.extra_env.update(worker_env(args.window, args.embedding_backend))
    if manager is not None:
        deployment.extra_env["SEISMO_ALERTMANAGER_URLS"] = manager.url
    else:
        deployment.extra_env.update(SEISMO_WEBHOOK_URL=receiver.url,
                                    SEISMO_WEBHOOK_STATES="firing")
    path = f"Alertmanager {manager.url}" if manager else "the worker's webhook notifier"
    print(f"notification path: worker -> {path} -> receiver {receiver.url}", flush=True)
    try:
        deployment.create_topics()
        deployment.start()
        return drive(args, deployment, bootstrap, receiver)
    finally:
        if deployment.process is not None:
            deployment.stop()
        if manager is not None:
            manager.stop()
        receiver.stop()
        if broker is not None:
            broker.down()


def drive(args: argparse.Namespace, deployment: Deployment, bootstrap: str,
          receiver: HttpReceiver) -> Trial:
    """Publish live traffic with an onset on a window boundary; read the drift rows after."""
    # Traffic starts on a window boundary a few seconds ahead; the onset is one too.
    now = time.time()
    start = (now // args.window + 1) * args.window
    if start - now < 2:
        start += args.window
    stable = max(args.window, args.stable // args.window * args.window)
    config = GeneratorConfig(
        seed=7, start=datetime.fromtimestamp(start, UTC), events_per_second=args.rate,
        drift_at=stable, drift_fraction=args.drift_fraction, apps=(APP,))
    onset = start + stable
    print(f"publishing live from {config.start:%H:%M:%S}, onset at "
          f"{datetime.fromtimestamp(onset, UTC):%H:%M:%S} (event time)", flush=True)
    onset_sent, fired, sent = asyncio.run(publish_live(
        bootstrap, deployment.traces_topic, config, onset, receiver, args.timeout))
    windows = deployment.query(
        "SELECT model, toUnixTimestamp(window_start), drifted, p_value, "
        "toUnixTimestamp64Milli(computed_at) / 1000 FROM drift FINAL "
        "WHERE method = 'mmd' AND field = 'prompt' ORDER BY window_start, model")
    return Trial(onset, onset_sent, fired, sent, windows)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    rule = load_rules(Settings().alert_rules_path)[RULE]
    floor = rule.for_windows * args.window + LATENESS_SECONDS
    print_machine(f"detection latency: window {args.window:g} s, rule {RULE} for_windows "
                  f"{rule.for_windows}, {args.rate:g} events/s from {APP}, drift fraction "
                  f"{args.drift_fraction:g}, embedding backend {args.embedding_backend}")
    with tempfile.TemporaryDirectory(prefix="seismo-latency-") as tmp:
        trial = run_trial(args, Path(tmp))

    print(f"{trial.sent} events published. Drift results per window and model: window start - "
          "onset, decision, p, result written - window end (the close lag)")
    for model, start_s, drifted, p_value, computed in trial.windows:
        print(f"  {start_s - trial.onset:+6.0f} s  {model:<18} "
              f"{'drifted' if drifted else 'clean  '}"
              f"  p={p_value:<8.3g} lag {computed - start_s - args.window:5.1f} s")
    if trial.fired is None:
        print(f"no firing notification within {args.timeout:g} s of the onset")
        return
    latency = trial.fired - trial.onset_sent
    print_table([
        Row("onset -> firing notification at the receiver", latency, "s",
            f"window {args.window:g} s x for_windows {rule.for_windows} + lateness "
            f"{LATENESS_SECONDS:g} s = {floor:g} s floor"),
        Row("  latency / floor", latency / floor, "x", "the rest: close check, embedding and "
            "test of the closing window, notification path"),
        Row("  in windows", latency / args.window, "windows", ""),
    ])
    print(f"load average {load_average()} at the end")


if __name__ == "__main__":
    main()
