"""Events per second of one worker on the cheap path: Kafka → signals → embedded ClickHouse.

Run: ``.venv/bin/python bench/throughput.py [--events 50000] [--batch-size 5000] [--profile]
[--ingest-processes 0,2] [--rounds 1]``.

A real broker (the local jar broker on a free port, state in a temporary directory) gets
``--events`` generated events, published beforehand with aiokafka, once per run. Then one
worker process per run (``python -m streams worker``, embeddings off), one after the other,
consumes them into an embedded ClickHouse in the same temporary directory: by default with
``ingest_processes=0`` (everything in the event loop) and then ``2`` (batches prepared in two
ingest processes while the event loop writes the one before), so the modes are compared in the
same run. With ``--rounds N`` every mode runs N times, the modes alternating, and a summary
gives each mode's median rate, its range and how many rounds met the target: this machine's
speed drifts by half from one minute to the next, so one run is one draw. The rate is taken
from the worker's own counter ``seismo_events_written_total`` (polled on ``/api/health``): from
the first batch written to the last, so group join and start-up are not in it (they are printed
separately). CPU is the worker's and its ingest processes', from ``/proc``.

To show what dominates, the script also measures each stage alone on the same events: a bare
aiokafka consumer reading the topic, the worker's ingest consumer with a pipeline that only
counts (group membership, batches and commits: the consumer's own cost per event), the signal
path with the rows' Native encoding in one process, and the ClickHouse insert of the encoded
rows through the worker's sink, each as CPU time per
event beside the worker's own (from ``/proc``). For comparison it also measures a Faust agent
that only takes and acknowledges (``faust_floor.py``), the path the ingest consumer replaced.
``--profile`` runs the last mode's worker under pyinstrument from its API answering to the last
row written (event-loop thread only; inserts run on an executor thread and show as waits), see
``profiled_worker.py``. The worker process is ``throughput_worker.py``, the stages alone
``throughput_stages.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import Row, encoded_events, load_average, print_machine, print_table
from profiled_worker import print_profile
from throughput_stages import Stages, measure_stages, stage_rows
from throughput_worker import PARTITIONS, Consumption, WorkerRun, run_mode, start_broker

from streams.kafka.admin import ensure_topics, quiet

TARGET_EVENTS_PER_SECOND = 10_000  # the per-worker target for the cheap path


async def _publish(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20,
                                max_batch_size=1024 * 1024)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for key, value in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def print_threads(run: Consumption, title: str) -> None:
    """The worker's CPU by thread: event loop, Faust's consumer thread, ClickHouse, executors,
    and its ingest processes."""
    total = sum(run.threads.values()) or 1.0
    print(f"\n{title}: worker CPU by thread over the same interval (us per event, share):")
    for name, seconds in sorted(run.threads.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {seconds / run.events * 1e6:8.0f} us  {seconds / total:6.1%}  {name}")


def consume_rows(run: Consumption, startup: float, processes: int, label: str = "") -> list[Row]:
    rate = run.events / run.seconds
    return [
        Row(f"worker, {label}ingest_processes={processes}: events written per second", rate,
            "events/s", f"{rate / TARGET_EVENTS_PER_SECOND:.2f} x the 10,000/s target; "
            f"{run.events} events after the first batch, {run.batches} batches, "
            f"{run.windows_closed} windows closed meanwhile"),
        Row("  worker CPU while consuming", run.cpu_seconds / run.seconds * 100, "% core",
            f"{run.cpu_seconds / run.events * 1e6:.0f} us CPU per event, all threads and "
            f"ingest processes ({run.child_cpu_seconds / run.events * 1e6:.0f} us theirs)"),
        Row("  broker CPU meanwhile", run.broker_cpu_seconds / run.seconds * 100, "% core",
            "the JVM shares the same cores"),
        Row("  start-up: process to API answering", startup, "s"),
        Row("  API answering to first batch written", run.first_seen, "s",
            "group join, fetch, first batch"),
    ]


def comparison_rows(runs: dict[int, Consumption], label: str = "") -> list[Row]:
    """Each mode's rate and CPU per event against the first mode's, from the same run."""
    (base_mode, base), *others = runs.items()
    base_rate = base.events / base.seconds
    rows = []
    base_cpu = base.cpu_seconds / base.events
    for mode, run in others:
        rate, cpu = run.events / run.seconds, run.cpu_seconds / run.events
        rows.append(Row(f"{label}ingest_processes={mode} / ingest_processes={base_mode}",
                        rate / base_rate, "x events/s",
                        f"CPU per event {cpu * 1e6:.0f} vs {base_cpu * 1e6:.0f} us "
                        f"({cpu / base_cpu:.2f} x)"))
    return rows


def summary_rows(runs: dict[int, list[Consumption]]) -> list[Row]:
    """Each mode over the rounds: median rate, range, and how many rounds met the target."""
    rows = []
    for mode, mode_runs in runs.items():
        rates = sorted(run.events / run.seconds for run in mode_runs)
        met = sum(rate >= TARGET_EVENTS_PER_SECOND for rate in rates)
        cpu = sorted(run.cpu_seconds / run.events * 1e6 for run in mode_runs)
        rows.append(Row(f"ingest_processes={mode}, median of {len(rates)} rounds",
                        statistics.median(rates), "events/s",
                        f"{rates[0]:,.0f}-{rates[-1]:,.0f}; {met} of {len(rates)} rounds at "
                        f"or above 10,000/s; CPU per event {cpu[0]:.0f}-{cpu[-1]:.0f} us"))
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="events published")
    parser.add_argument("--batch-size", type=int, default=5000, help="SEISMO_BATCH_SIZE")
    parser.add_argument("--batch-seconds", type=float, default=1.0, help="SEISMO_BATCH_SECONDS")
    parser.add_argument("--kafka-version", default="3.9.1")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the rows")
    parser.add_argument("--profile", action="store_true", help="run the worker under pyinstrument")
    parser.add_argument("--top", type=int, default=15, help="profile lines to print")
    parser.add_argument("--profile-out", type=Path,
                        help="keep the worker's pyinstrument session here")
    parser.add_argument("--no-stages", action="store_true", help="skip the per-stage timings")
    parser.add_argument("--ingest-processes", default="0,2",
                        help="the modes to run one after the other (SEISMO_INGEST_PROCESSES)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every mode this many times, alternating, and summarise each "
                        "mode's rates (this machine's speed drifts from minute to minute)")
    parser.add_argument("--defer-windows", action="store_true",
                        help="close no window while consuming (SEISMO_CLOSE_CHECK_SECONDS=3600): "
                        "a busy event loop delays the window timer, so without this the modes "
                        "close different numbers of windows in the interval measured")
    return parser.parse_args(argv)


@dataclass(frozen=True)
class Measured:
    """Everything one invocation measured, keyed by (round, mode)."""

    runs: dict[tuple[int, int], tuple[Consumption, float, str]]  # run, start-up s, load after
    stages: Stages | None
    publish_rate: float
    load_before: str


def measure(args: argparse.Namespace, modes: list[int], records: list[tuple[bytes, bytes]],
            root: Path, profile: Path | None) -> Measured:
    """Publish the events once per run, run every worker in turn, then the stages alone."""
    broker = start_broker(args.kafka_version, root / "kafka")
    bootstrap = broker.bootstrap
    if profile is not None:
        profile.unlink(missing_ok=True)  # its appearance says the worker wrote it
    # Each run has a worker of its own: its topic (the same events), group and store.
    # Rounds alternate the modes, so a slow spell of the machine hits them alike.
    order = [(r, mode) for r in range(args.rounds) for mode in modes]
    last = order[-1]
    workers = {(r, mode): WorkerRun(bootstrap, root, args.batch_size, args.batch_seconds,
                                    profile if (r, mode) == last else None, mode,
                                    3600.0 if args.defer_windows else None)
               for r, mode in order}
    runs: dict[tuple[int, int], tuple[Consumption, float, str]] = {}
    load_before = load_average()
    try:
        asyncio.run(ensure_topics(bootstrap, {w.traces_topic: PARTITIONS
                                              for w in workers.values()}))
        t = time.perf_counter()
        with quiet("aiokafka"):
            for worker in workers.values():
                asyncio.run(_publish(bootstrap, worker.traces_topic, records))
        publish_rate = len(records) * len(workers) / (time.perf_counter() - t)
        print(f"published {len(records)} events per run at {publish_rate:,.0f}/s",
              flush=True)
        for key, worker in workers.items():
            runs[key] = run_mode(worker, len(records), broker.pid(), args.timeout)
        stages = None
        if not args.no_stages:
            print("measuring each stage alone …", flush=True)
            stages = measure_stages(bootstrap, workers[0, modes[0]].traces_topic, records,
                                    root, args)
    finally:
        for worker in workers.values():
            worker.stop()
        broker.down()
    return Measured(runs, stages, publish_rate, load_before)


def round_label(r: int, rounds: int) -> str:
    return f"round {r + 1}, " if rounds > 1 else ""


def report(measured: Measured, modes: list[int], rounds: int) -> None:
    """The table of every run, the comparisons and the stages; loads; CPU by thread."""
    runs = measured.runs
    rows = []
    for r in range(rounds):
        label = round_label(r, rounds)
        rows += [row for mode in modes
                 for row in consume_rows(runs[r, mode][0], runs[r, mode][1], mode, label)]
        rows += comparison_rows({mode: runs[r, mode][0] for mode in modes}, label)
    if rounds > 1:
        rows += summary_rows({mode: [runs[r, mode][0] for r in range(rounds)]
                              for mode in modes})
    rows.append(Row("publish with aiokafka (before the workers)", measured.publish_rate,
                    "events/s", "acks=all, linger 20 ms"))
    first_run = runs[0, modes[0]][0]
    print_table(rows + (stage_rows(measured.stages, first_run) if measured.stages else []))
    print(f"load average {measured.load_before} before the first worker, "
          + ", ".join(f"{load} when {round_label(r, rounds)}ingest_processes={mode} wrote its "
                      "last row" for (r, mode), (_, _, load) in runs.items())
          + f", {load_average()} at the end")
    for (r, mode), (run, _, _) in runs.items():
        print_threads(run, f"{round_label(r, rounds)}ingest_processes={mode}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    modes = [int(m) for m in args.ingest_processes.split(",")]
    print_machine(f"worker throughput: {args.events} events, {PARTITIONS} partitions, one worker,"
                  f" batch_size {args.batch_size}, embeddings off, ingest_processes "
                  f"{' then '.join(map(str, modes))}"
                  + (", the last under pyinstrument" if args.profile else ""))
    # Event times end now, so the window clock sees live traffic (windows of the last minutes).
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=args.events / 50.0)
    records = encoded_events(args.events, start=start)
    with tempfile.TemporaryDirectory(prefix="seismo-bench-") as tmp:
        root = Path(tmp)
        profile = None
        if args.profile:
            profile = (args.profile_out or root / "worker.pyisession").resolve()
        measured = measure(args, modes, records, root, profile)
        report(measured, modes, args.rounds)
        if profile is not None:
            print_profile(profile, args.top)


if __name__ == "__main__":
    main()
