"""What every benchmark script shares: the machine line, timing, generated events, the table.

Scripts run as ``.venv/bin/python bench/<name>.py`` from the repository root; importing this
module puts the root on ``sys.path`` so that ``detectors``, ``streams`` and ``schemas`` import
without installing the project.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Row:
    """One line of a printed table."""

    what: str
    value: float
    unit: str
    note: str = ""


def print_table(rows: list[Row], title: str | None = None) -> None:
    """Rows as an aligned text table (values as :func:`format_value` writes them)."""
    if title:
        print(f"\n{title}")
    width = max(len(row.what) for row in rows)
    values = [format_value(row.value) for row in rows]
    value_width = max(10, *(len(v) for v in values))
    unit_width = max(4, *(len(row.unit) for row in rows))
    print(f"{'measure':<{width}}  {'value':>{value_width}}  {'unit':<{unit_width}}  note")
    print(f"{'-' * width}  {'-' * value_width}  {'-' * unit_width}  {'-' * 20}")
    for row, value in zip(rows, values, strict=True):
        print(f"{row.what:<{width}}  {value:>{value_width}}  {row.unit:<{unit_width}}  {row.note}")


def format_value(value: float) -> str:
    """Big numbers with separators, small ones in scientific notation, the rest with 2 decimals."""
    if value != value:
        return "n/a"
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    if value and abs(value) < 0.01:
        return f"{value:.3e}"
    return f"{value:.2f}"


def median_seconds(run: Callable[[], object], repeats: int, *, warmup: bool = True) -> float:
    """Median wall-clock time of ``run()`` over ``repeats`` calls, after one warm-up call."""
    if warmup:
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@dataclass(frozen=True)
class Timing:
    """Best wall-clock and best CPU seconds of one piece of work over interleaved runs."""

    wall: float
    cpu: float


def best_times(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, Timing]:
    """Time every ``run`` ``repeats`` times, interleaved, after one warm-up each; keep the best.

    On a shared machine other processes only ever add time, so the minimum is the figure
    closest to the code's own cost, and interleaving spreads a busy spell over all of them.
    CPU time (this process, all threads) is less disturbed by other work than wall time.
    """
    for run in runs.values():
        run()
    wall = dict.fromkeys(runs, float("inf"))
    cpu = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            run()
            wall[name] = min(wall[name], time.perf_counter() - start_wall)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    return {name: Timing(wall[name], cpu[name]) for name in runs}


def usable_cpus() -> int:
    """CPUs this process may run on (respects ``taskset`` and container limits)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    """The 1, 5 and 15 minute load averages; other work on the machine slows every figure."""
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    pools = (f"{i['internal_api']} x{i['num_threads']}" for i in threadpool_info())
    return ", ".join(dict.fromkeys(pools)) or "none loaded"


def print_machine(what: str) -> None:
    """The line that makes a figure comparable: CPUs, model, Python, load at the start."""
    print(
        f"{what}\n{usable_cpus()} CPUs ({cpu_model()}), Python {platform.python_version()}, "
        f"load average {load_average()} at start"
    )


def generated_events(
    n: int, seed: int = 0, start: datetime | None = None, **config: Any
) -> list[dict[str, Any]]:
    """``n`` synthetic trace events (schema v1) as dicts, stamped from ``start``.

    ``start`` defaults to a fixed date, so the same arguments give the same events.
    """
    from streams.testing.generator import GeneratorConfig, TrafficGenerator

    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    return list(TrafficGenerator(GeneratorConfig(seed=seed, start=start, **config)).events(n))


def unit_rows(rng: Any, rows: int, dim: int, shift: float = 0.0) -> Any:
    """Unit-length vectors around a common direction, like normalised sentence embeddings.

    ``rng`` is a ``numpy.random.Generator``; numpy is imported by the caller (this module
    stays importable without it).
    """
    x = rng.normal(size=(rows, dim)) + 2.0 + shift
    return x / ((x * x).sum(axis=1, keepdims=True) ** 0.5)


# Shares of the synthetic traffic that exercise the scanners, a bit above production rates so
# that the slow branches (tags, hashing, toxic texts) are part of the measurement.
SIGNAL_MIX = {"toxic_rate": 0.05, "pii_rate": 0.05, "refusal_rate": 0.02, "error_rate": 0.01}


def encoded_events(
    n: int, seed: int = 0, start: datetime | None = None
) -> list[tuple[bytes, bytes]]:
    """``n`` generated events as Kafka records: (key ``app/model``, UTF-8 JSON value)."""
    from streams.testing.generator import to_json_line

    return [(f"{e['app']}/{e['model']}".encode(), to_json_line(e))
            for e in generated_events(n, seed, start, **SIGNAL_MIX)]
