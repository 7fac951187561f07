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
``profiled_worker.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, Row, encoded_events, load_average, print_machine, print_table
from profiled_worker import TOGGLE, print_profile

from schemas.tables import EVENT_COLUMNS, EVENTS
from streams.exceptions import KafkaUnavailable
from streams.ingest.prepare import PrepareConfig, Preparer
from streams.kafka.admin import ensure_topics, quiet
from streams.kafka.consumer import IngestConsumer, consumer_options
from streams.kafka.local_broker import LocalKafka
from streams.kafka.records import Record
from streams.metrics import Metrics
from streams.service.app import MAX_RECORD_BYTES
from streams.settings import Settings
from streams.store.client import ClickHouseStore
from streams.store.sink import ClickHouseSink

TARGET_EVENTS_PER_SECOND = 10_000  # the per-worker target for the cheap path
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PARTITIONS = 4


def free_port(pairs: bool = False) -> int:
    """A free loopback port (and, with ``pairs``, the next one free too: the controller's)."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if not pairs:
            return port
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port pair on 127.0.0.1")


def start_broker(version: str, home: Path, attempts: int = 3) -> LocalKafka:
    """A fresh local broker on free ports; another port if someone took ours meanwhile."""
    for attempt in range(attempts):
        broker = LocalKafka(version=version, port=free_port(pairs=True), home=home)
        print(f"starting Kafka {broker.version} on {broker.bootstrap} …", flush=True)
        try:
            broker.up(fresh=True)
            return broker
        except KafkaUnavailable as exc:
            if attempt == attempts - 1 or "did not start" not in str(exc):
                raise
            print(f"  {exc}; trying other ports", flush=True)
    raise AssertionError("unreachable")


def _stat_cpu(stat: str) -> float:
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far, all threads (from /proc)."""
    return _stat_cpu(Path(f"/proc/{pid}/stat").read_text())


def children_cpu(pid: int) -> dict[int, float]:
    """CPU seconds so far of each live child of ``pid`` (the worker's ingest processes)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # it ended meanwhile
            continue
        if int(text.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(stat.parent.name)] = _stat_cpu(text)
    return found


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds so far per kind of thread of a Python process.

    Python 3.11 does not name its threads for the OS, so the main thread (the event loop) is
    told apart by its id and the other Python threads (Faust's consumer thread, executors) are
    one group; native threads (ClickHouse's pools) keep their names, digits dropped.
    """
    totals: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            seconds = _stat_cpu((task / "stat").read_text())
        except OSError:  # the thread ended meanwhile
            continue
        if task.name == str(pid):
            name = "main thread: the event loop (ingest consumer, pipeline, signals)"
        elif name.startswith("python"):
            name = "other Python threads (Faust's consumer thread, executors)"
        else:
            name = "native: " + (re.sub(r"[-_ ]?\d+$", "", name) or "?")
        totals[name] = totals.get(name, 0.0) + seconds
    return totals


# -- publishing and reading with a plain client -----------------------------------------------
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


async def _read_all(bootstrap: str, topic: str, expected: int, timeout: float) -> int:
    """Records read by a bare consumer (no group, no processing) from the start of ``topic``."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None,
                                fetch_max_bytes=16 * 1024 * 1024)
    await consumer.start()
    seen = 0
    try:
        deadline = time.monotonic() + timeout
        while seen < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            seen += sum(len(messages) for messages in batch.values())
    finally:
        await consumer.stop()
    return seen


# -- the worker process ----------------------------------------------------------------------
@dataclass
class WorkerRun:
    """One worker process against its own topics, consumer group and ClickHouse directory."""

    bootstrap: str
    root: Path
    batch_size: int
    batch_seconds: float
    profile: Path | None = None
    ingest_processes: int = 1
    close_check_seconds: float | None = None  # None: the worker's default
    name: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    web_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def traces_topic(self) -> str:
        return f"bench{self.name}.llm.traces"

    @property
    def log_path(self) -> Path:
        return self.root / f"worker-{self.name}.log"

    def env(self) -> dict[str, str]:
        # only these settings: none inherited from the shell (SEISMO_*, a SEISMO_CONFIG file)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEISMO_")
               and k not in ("KAFKA_BOOTSTRAP_SERVERS", "CLICKHOUSE_URL")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env.update({
            "SEISMO_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "SEISMO_TRACES_TOPIC": self.traces_topic,
            "SEISMO_FEEDBACK_TOPIC": f"bench{self.name}.llm.feedback",
            "SEISMO_DLQ_TOPIC": f"bench{self.name}.llm.traces.dlq",
            "SEISMO_ALERTS_TOPIC": f"bench{self.name}.seismo.alerts",
            "SEISMO_CONSUMER_GROUP": f"seismo-bench-{self.name}",
            "SEISMO_TOPIC_PARTITIONS": str(PARTITIONS),
            "SEISMO_CLICKHOUSE_URL": f"chdb://{self.root / ('chdb-' + self.name)}",
            "SEISMO_DATA_DIR": str(self.root / f"data-{self.name}"),
            "SEISMO_WEB_PORT": str(self.web_port),
            "SEISMO_LOG_FORMAT": "json",
            "SEISMO_EMBEDDING_ENABLED": "false",
            "SEISMO_BATCH_SIZE": str(self.batch_size),
            "SEISMO_BATCH_SECONDS": str(self.batch_seconds),
            "SEISMO_INGEST_PROCESSES": str(self.ingest_processes),
        })
        if self.close_check_seconds is not None:
            env["SEISMO_CLOSE_CHECK_SECONDS"] = str(self.close_check_seconds)
        return env

    def start(self, timeout: float = 120.0) -> float:
        """Start the worker; returns seconds until its API answered."""
        command = [sys.executable, "-m", "streams", "worker"]
        if self.profile is not None:
            command = [sys.executable, str(Path(__file__).with_name("profiled_worker.py")),
                       str(self.profile)]
        started = time.monotonic()
        self.process = subprocess.Popen(command, env=self.env(), cwd=self.root,
                                        stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT)
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.log()}")
            if self.counters() is not None:
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"worker API did not answer in {timeout:.0f}s:\n{self.log()}")

    def counters(self) -> dict[str, float] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/api/health",
                                        timeout=2) as response:
                return json.load(response)["counters"]
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def toggle_profile(self) -> None:
        """Start, or stop and write, the profile (see ``profiled_worker.py``)."""
        if self.profile is not None and self.process is not None:
            self.process.send_signal(TOGGLE)

    def wait_for_profile(self, timeout: float = 30.0) -> None:
        """Wait until the worker has written its profile (it does so between two batches)."""
        deadline = time.monotonic() + timeout
        while self.profile is not None and not self.profile.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker wrote no profile in {timeout:.0f}s")
            time.sleep(0.1)

    def stop(self, timeout: float = 60.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass(frozen=True)
class Consumption:
    """What the worker did between its first written batch and its last."""

    first_seen: float  # seconds from the API answering to the first written batch
    events: int  # events written after the first batch
    seconds: float
    cpu_seconds: float  # the worker's CPU over the same interval, its ingest processes' included
    child_cpu_seconds: float  # the ingest processes' part of it
    broker_cpu_seconds: float
    batches: int
    windows_closed: int  # windows closed meanwhile (their queries are worker CPU too)
    threads: dict[str, float]  # the worker's CPU seconds per thread name over the interval


def watch(worker: WorkerRun, expected: int, broker_pid: int | None,
          timeout: float) -> Consumption:
    """Poll the worker's counters until ``expected`` events are written."""
    assert worker.process is not None
    pid = worker.process.pid
    started = time.monotonic()
    first: tuple[float, float, float, float, float, float] | None = None
    threads_before: dict[str, float] = {}
    children_before: dict[int, float] = {}
    while time.monotonic() - started < timeout:
        counters = worker.counters() or {}
        written = counters.get("seismo_events_written_total", 0)
        now = time.monotonic()
        if written and first is None:
            broker = cpu_seconds(broker_pid) if broker_pid else 0.0
            first = (now, written, cpu_seconds(pid), broker, counters["seismo_batches_total"],
                     counters.get("seismo_windows_closed_total", 0))
            threads_before = thread_cpu(pid)
            children_before = children_cpu(pid)
        if written >= expected:
            assert first is not None
            broker = cpu_seconds(broker_pid) if broker_pid else 0.0
            threads = {name: seconds - threads_before.get(name, 0.0)
                       for name, seconds in thread_cpu(pid).items()}
            # A child that started meanwhile (a replacement) counts from zero.
            child = sum(seconds - children_before.get(child, 0.0)
                        for child, seconds in children_cpu(pid).items())
            threads["ingest processes (children of the worker)"] = child
            return Consumption(
                first_seen=first[0] - started,
                events=int(written - first[1]),
                seconds=now - first[0],
                cpu_seconds=cpu_seconds(pid) - first[2] + child,
                child_cpu_seconds=child,
                broker_cpu_seconds=broker - first[3],
                batches=int(counters["seismo_batches_total"] - first[4]),
                windows_closed=int(counters.get("seismo_windows_closed_total", 0) - first[5]),
                threads={name: seconds for name, seconds in threads.items() if seconds > 0},
            )
        if worker.process.poll() is not None:
            raise RuntimeError(f"worker exited with {worker.process.returncode}:\n{worker.log()}")
        time.sleep(0.2)  # each poll is an HTTP request the worker answers: keep them rare
    raise RuntimeError(f"only {written:.0f} of {expected} events written in {timeout:.0f}s")


# -- stages alone ----------------------------------------------------------------------------
def signal_stage(records: list[tuple[bytes, bytes]], batch_size: int) -> tuple[float, list]:
    """CPU seconds of decode + trace_rows + Native encoding (what an ingest process does) over
    the records in worker-sized batches; the encoded blocks."""
    prepare = Preparer(PrepareConfig.from_settings(Settings(), salt="bench"))
    now = datetime.now(UTC)
    values = [value for _, value in records]
    prepare("trace", values[:100], now)  # warm-up
    blocks: list = []
    started = time.process_time()
    for i in range(0, len(values), batch_size):
        blocks.append(prepare("trace", values[i : i + batch_size], now).block)
    return time.process_time() - started, blocks


def insert_stage(blocks: list, root: Path) -> float:
    """CPU seconds (all threads) to write the encoded ``blocks`` to a fresh embedded ClickHouse
    through the worker's sink, one insert each."""
    store = ClickHouseStore(f"chdb://{root / 'chdb-stage'}", "seismo")
    store.migrate()
    sink = ClickHouseSink(store, EVENTS, EVENT_COLUMNS)

    async def write() -> float:
        started = time.process_time()
        for block in blocks:
            sink.add(block)
            await sink.flush()
        return time.process_time() - started

    try:
        return asyncio.run(write())
    finally:
        store.close()


class _CountingPipeline:
    """Stands in for the worker's pipelines: counts records and times the first and last."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.events = 0
        self.first: tuple[float, float, int] | None = None  # wall, CPU, records in the batch
        self.done = asyncio.Event()

    def prepare(self, records: Sequence[Record]) -> asyncio.Future[None]:
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def write(self, records: Sequence[Record], prepared: None) -> None:
        if self.first is None:
            self.first = (time.monotonic(), time.process_time(), len(records))
        self.events += len(records)
        if self.events >= self.expected:
            self.done.set()


async def _ingest_floor(bootstrap: str, topic: str, expected: int, batch_size: int,
                        batch_seconds: float) -> tuple[float, float]:
    """Events/s and CPU us/event of the worker's ingest consumer with a pipeline that only
    counts, in a group of its own, from its first batch to its last."""
    settings = Settings(kafka_bootstrap_servers=bootstrap, traces_topic=topic,
                        consumer_group=f"bench-ingest-floor-{uuid.uuid4().hex[:8]}")
    counting = _CountingPipeline(expected)
    options = consumer_options(settings, MAX_RECORD_BYTES)
    ingest = IngestConsumer({topic: counting}, options, Metrics(), batch_size, batch_seconds)
    task = asyncio.create_task(ingest.run())
    try:
        await counting.done.wait()
        wall, cpu = time.monotonic(), time.process_time()
    finally:
        await ingest.stop()
        await task
    assert counting.first is not None
    first_wall, first_cpu, first_n = counting.first
    events = counting.events - first_n
    return events / (wall - first_wall), (cpu - first_cpu) / events * 1e6


def ingest_floor(bootstrap: str, topic: str, expected: int, batch_size: int,
                 batch_seconds: float, timeout: float) -> tuple[float, float]:
    with quiet("aiokafka"):
        return asyncio.run(asyncio.wait_for(
            _ingest_floor(bootstrap, topic, expected, batch_size, batch_seconds), timeout))


def faust_floor(bootstrap: str, topic: str, expected: int, batch_size: int,
                batch_seconds: float, timeout: float) -> tuple[float, float]:
    """Events/s and CPU us/event of a Faust agent that only takes and acks (faust_floor.py)."""
    script = Path(__file__).with_name("faust_floor.py")
    result = subprocess.run(
        [sys.executable, str(script), bootstrap, topic, str(expected), str(batch_size),
         str(batch_seconds)],
        capture_output=True, text=True, timeout=timeout,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"faust_floor.py printed no figure:\n{result.stderr[-3000:]}")
    figure = json.loads(lines[-1])
    return figure["events"] / figure["seconds"], figure["cpu_seconds"] / figure["events"] * 1e6


def print_threads(run: Consumption, title: str) -> None:
    """The worker's CPU by thread: event loop, Faust's consumer thread, ClickHouse, executors,
    and its ingest processes."""
    total = sum(run.threads.values()) or 1.0
    print(f"\n{title}: worker CPU by thread over the same interval (us per event, share):")
    for name, seconds in sorted(run.threads.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {seconds / run.events * 1e6:8.0f} us  {seconds / total:6.1%}  {name}")


@dataclass(frozen=True)
class Stages:
    """Each stage of the worker's path alone, on the same events."""

    read_rate: float  # bare aiokafka consumer, events/s (wall)
    ingest_rate: float  # the worker's ingest consumer with a counting pipeline, events/s (wall)
    ingest_cpu: float  # its CPU seconds per event
    faust_rate: float  # Faust agent that only takes and acks, events/s (wall)
    faust_cpu: float  # its CPU seconds per event
    signal_cpu: float  # decode + trace_rows + encoding, CPU seconds per event
    insert_cpu: float  # ClickHouseSink insert of encoded rows, CPU seconds per event (all threads)


def measure_stages(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]], root: Path,
                   args: argparse.Namespace) -> Stages:
    n = len(records)
    t = time.perf_counter()
    read = asyncio.run(_read_all(bootstrap, topic, n, 120))
    read_seconds = time.perf_counter() - t
    ingest_rate, ingest_cpu = ingest_floor(bootstrap, topic, n, args.batch_size,
                                           args.batch_seconds, args.timeout)
    faust_rate, faust_cpu = faust_floor(bootstrap, topic, n, args.batch_size,
                                        args.batch_seconds, args.timeout)
    signal_cpu, blocks = signal_stage(records, args.batch_size)
    insert_cpu = insert_stage(blocks, root)
    return Stages(read / read_seconds, ingest_rate, ingest_cpu / 1e6, faust_rate,
                  faust_cpu / 1e6, signal_cpu / n, insert_cpu / n)


def stage_rows(stages: Stages, run: Consumption) -> list[Row]:
    """Each stage's CPU per event beside the worker's: what dominates, on one core."""
    worker_cpu = run.cpu_seconds / run.events  # CPU seconds per event in the real worker

    def share(seconds: float) -> str:
        return f"{seconds * 1e6:.0f} us CPU/event = {seconds / worker_cpu:.0%} of the worker's"

    together = stages.ingest_cpu + stages.signal_cpu + stages.insert_cpu
    return [
        Row("stage: bare aiokafka consumer, no processing", stages.read_rate, "events/s",
            "the Kafka client's ceiling in one process"),
        Row("stage: ingest consumer, counting pipeline", stages.ingest_rate, "events/s",
            share(stages.ingest_cpu)),
        Row("  replaced: Faust agent, noack_take + ack only", stages.faust_rate, "events/s",
            f"{stages.faust_cpu * 1e6:.0f} us CPU/event = "
            f"{stages.faust_cpu / stages.ingest_cpu:.1f} x the ingest consumer's"),
        Row("stage: decode + trace_rows + encode (Preparer), in process",
            1 / stages.signal_cpu, "events/s",
            "per CPU second; " + share(stages.signal_cpu)),
        Row("stage: ClickHouse insert via ClickHouseSink", 1 / stages.insert_cpu, "events/s",
            "per CPU second; " + share(stages.insert_cpu)),
        Row("  one core, the three stages' CPU together", 1 / together, "events/s",
            f"{together * 1e6:.0f} us/event vs {worker_cpu * 1e6:.0f} in the worker"),
    ]


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


def run_mode(worker: WorkerRun, expected: int, broker_pid: int | None,
             timeout: float) -> tuple[Consumption, float, str]:
    """Start the worker, watch it write ``expected`` events, stop it; also the start-up
    seconds and the load average when the last row was written."""
    print(f"starting the worker with ingest_processes={worker.ingest_processes} …", flush=True)
    try:
        startup = worker.start()
        worker.toggle_profile()
        run = watch(worker, expected, broker_pid, timeout)
        load = load_average()
        worker.toggle_profile()
        worker.wait_for_profile()
    finally:
        worker.stop()
    return run, startup, load


def main(argv: list[str] | None = None) -> None:
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
    args = parser.parse_args(argv)
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
        broker = start_broker(args.kafka_version, root / "kafka")
        bootstrap = broker.bootstrap
        profile = None
        if args.profile:
            profile = (args.profile_out or root / "worker.pyisession").resolve()
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
        rounds = args.rounds > 1

        def label(r: int) -> str:
            return f"round {r + 1}, " if rounds else ""

        rows = []
        for r in range(args.rounds):
            rows += [row for mode in modes
                     for row in consume_rows(runs[r, mode][0], runs[r, mode][1], mode, label(r))]
            rows += comparison_rows({mode: runs[r, mode][0] for mode in modes}, label(r))
        if rounds:
            rows += summary_rows({mode: [runs[r, mode][0] for r in range(args.rounds)]
                                  for mode in modes})
        rows.append(Row("publish with aiokafka (before the workers)", publish_rate, "events/s",
                        "acks=all, linger 20 ms"))
        first_run = runs[0, modes[0]][0]
        print_table(rows + (stage_rows(stages, first_run) if stages else []))
        print(f"load average {load_before} before the first worker, "
              + ", ".join(f"{load} when {label(r)}ingest_processes={mode} wrote its last row"
                          for (r, mode), (_, _, load) in runs.items())
              + f", {load_average()} at the end")
        for (r, mode), (run, _, _) in runs.items():
            print_threads(run, f"{label(r)}ingest_processes={mode}")
        if profile is not None:
            print_profile(profile, args.top)


if __name__ == "__main__":
    main()
