"""Soak: the generator at a fixed rate for ten minutes against one worker.

Consumer lag (the group's committed offsets against the partitions' ends, measured from
outside the worker as ``kafka-consumer-groups`` would) must stay bounded, and the worker's
resident memory (the worker process and any children it runs) must grow by less than 10 %
after warm-up — the first windows closed, the embedding model loaded, caches filled. The
samples are printed (``-s`` shows them).
"""

from __future__ import annotations

import asyncio
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from streams.kafka.lag import ConsumerLag
from streams.testing.ports import free_port
from tests.support.faults import COUNT_FINAL, children
from tests.support.workers import Deployment

SOAK_SECONDS = 600
RATE = 100  # events/s, as stamped and as published: event time follows the wall clock
EVENTS = SOAK_SECONDS * RATE
WINDOW_SECONDS = 60
# The embedding model loads when the third window closes (about 180 s in): one window more.
WARM_UP_SECONDS = 240
SAMPLE_EVERY = 10.0
# Resident memory is a sawtooth with one tooth per window close (the close's transient
# buffers), so each end of the run is summarised over one whole window: a median of its samples.
WINDOW_SAMPLES = int(WINDOW_SECONDS / SAMPLE_EVERY)
# Behind by more than this much traffic would mean the worker is not keeping up: one batch
# interval plus the batch's write and commit (offsets move only then) is a few seconds of traffic.
MAX_LAG_EVENTS = 15 * RATE
MAX_RSS_GROWTH = 0.10

SOAK_ENV = {
    "SEISMO_WINDOW_SECONDS": str(WINDOW_SECONDS),
    "SEISMO_ALLOWED_LATENESS_SECONDS": "5",
    # 8 stream keys x 2 fields x 100 texts a minute keeps embedding at a fraction of 2 cores
    "SEISMO_EMBEDDING_SAMPLE": "100",
    "SEISMO_REFERENCE_SAMPLE": "100",
}


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants (a worker may run ingest processes)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children(current))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) * 1024 for line in status.splitlines()
                       if line.startswith("VmRSS:")), 0)
    assert total, f"no VmRSS for pid {pid}"
    return total


async def sample(deployment: Deployment, producer: subprocess.Popen) -> list[tuple]:
    """(seconds, total lag, RSS) every SAMPLE_EVERY s while the producer runs."""
    assert deployment.process is not None
    lag = ConsumerLag(deployment.bootstrap, f"seismo-{deployment.name}",
                      [deployment.traces_topic])
    began = time.monotonic()
    samples = []
    try:
        while producer.poll() is None:
            partitions = await lag.measure()
            behind = sum(partitions.values()) if partitions is not None else -1
            samples.append((time.monotonic() - began, behind, rss_bytes(deployment.process.pid)))
            await asyncio.sleep(SAMPLE_EVERY)
    finally:
        await lag.close()
    return samples


@dataclass(frozen=True)
class Soak:
    samples: list[tuple[float, int, int]]  # after warm-up: (seconds, total lag, RSS bytes)


@pytest.fixture(scope="module")
def soak(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Soak]:
    """One ten-minute run shared by the tests below; the samples are printed."""
    deployment = Deployment(bootstrap=kafka_bootstrap, root=tmp_path_factory.mktemp("soak"),
                            web_port=free_port(), extra_env=dict(SOAK_ENV))
    deployment.create_topics()
    deployment.start()
    try:
        producer = subprocess.Popen(
            [sys.executable, "-m", "streams", "produce", "--n", str(EVENTS), "--rate",
             str(RATE), "--events-per-second", str(RATE), "--seed", "7"],
            env=deployment.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        samples = asyncio.run(sample(deployment, producer))
        assert producer.wait() == 0, producer.stderr.read().decode() if producer.stderr else ""
        deployment.wait_rows(COUNT_FINAL, EVENTS, timeout=120)
    finally:
        if deployment.process is not None:
            deployment.stop(signal.SIGKILL)
    print(f"\nsoak: {EVENTS} events at {RATE}/s; seconds, consumer lag, worker RSS MiB")
    for seconds, behind, rss in samples:
        print(f"  {seconds:6.0f} {behind:7d} {rss / 2**20:8.1f}")
    after = [s for s in samples if s[0] >= WARM_UP_SECONDS]
    assert len(after) >= 20, f"too few samples after warm-up: {samples}"
    yield Soak(after)


@pytest.mark.slow
@pytest.mark.timeout(SOAK_SECONDS + 300)  # the first test also waits for the soak
def test_consumer_lag_stays_bounded_at_a_fixed_rate(soak: Soak) -> None:
    lags = [behind for _, behind, _ in soak.samples]
    print(f"soak: lag after warm-up max {max(lags)}, mean {statistics.mean(lags):.0f} events")
    assert -1 not in lags, "the broker could not be asked for the group's offsets"
    assert max(lags) <= MAX_LAG_EVENTS


@pytest.mark.slow
@pytest.mark.timeout(SOAK_SECONDS + 300)
def test_worker_memory_grows_less_than_ten_percent_after_warm_up(soak: Soak) -> None:
    warm = statistics.median(rss for _, _, rss in soak.samples[:WINDOW_SAMPLES])
    end = statistics.median(rss for _, _, rss in soak.samples[-WINDOW_SAMPLES:])
    growth = (end - warm) / warm
    print(f"soak: RSS {warm / 2**20:.0f} -> {end / 2**20:.0f} MiB ({growth:+.1%})")
    assert growth < MAX_RSS_GROWTH
