"""One worker process of ``throughput.py``: its broker, settings, CPU from ``/proc``, and what it
wrote between its first batch and its last."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from common import ROOT, load_average
from profiled_worker import TOGGLE

from streams.exceptions import KafkaUnavailable
from streams.kafka.local_broker import LocalKafka
from streams.testing.waiting import terminate

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
        if self.process is not None:
            terminate(self.process, timeout)


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
