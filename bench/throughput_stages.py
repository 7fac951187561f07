"""Each stage of the worker's path alone, on the events ``throughput.py`` published: a bare
aiokafka consumer, the ingest consumer with a counting pipeline, a Faust agent that only takes
and acks (``faust_floor.py``), the signal path with Native encoding, the ClickHouse insert."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from common import Row
from throughput_worker import Consumption

from schemas.tables import EVENT_COLUMNS, EVENTS
from streams.ingest.prepare import PrepareConfig, Preparer
from streams.kafka.admin import quiet
from streams.kafka.consumer import IngestConsumer, consumer_options
from streams.kafka.records import Record
from streams.metrics import Metrics
from streams.service.app import MAX_RECORD_BYTES
from streams.settings import Settings
from streams.store.client import ClickHouseStore
from streams.store.sink import ClickHouseSink


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
