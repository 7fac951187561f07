"""What the fault tests share: seeded traffic, the group's committed offsets, and the checks
that every event and every window result is in storage exactly once."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from streams.testing.generator import GeneratorConfig, TrafficGenerator, to_json_line
from streams.testing.publish import stream_key
from tests.support.workers import Deployment, produce_raw

WINDOW_SECONDS = 10  # of event time: 20 windows per stream key in 20,000 events at 100 /s
EVENTS_PER_SECOND = 100.0

# Short windows that close as soon as event time passes them, or after 3 s of silence (the
# last window of each key); no embedding model, so a run takes seconds. Drift rows then come
# from the signal change tests, against a reference of the first 200 events of each key.
FAST_WINDOWS_ENV = {
    "SEISMO_WINDOW_SECONDS": str(WINDOW_SECONDS),
    "SEISMO_ALLOWED_LATENESS_SECONDS": "1",
    "SEISMO_IDLE_CLOSE_SECONDS": "3",
    "SEISMO_REFERENCE_EVENTS": "200",
    "SEISMO_EMBEDDING_ENABLED": "false",
    "SEISMO_BATCH_SIZE": "500",
}

# A worker that died without leaving the group holds its partitions until the broker's session
# timeout expires (45 s by default); a restarted or surviving worker waits that long for them.
# Ten seconds keeps the tests short and still spans three heartbeats.
SHORT_SESSION_ENV = {"SEISMO_KAFKA_SESSION_TIMEOUT_SECONDS": "10"}

COUNT_FINAL = "SELECT count() FROM events FINAL"



def children(pid: int) -> set[int]:
    """Live processes whose parent is ``pid`` (zombies count as gone), from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name (field 2) may hold spaces; the state and parent pid follow ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found

def traffic(n: int, seed: int) -> list[dict]:
    """``n`` seeded events, 100 per second of event time, starting two hours ago on the hour
    (so windows line up the same way on every run)."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    config = GeneratorConfig(seed=seed, start=start, events_per_second=EVENTS_PER_SECOND)
    return list(TrafficGenerator(config).events(n))


def publish(bootstrap: str, topic: str, events: list[dict]) -> None:
    """Publish events keyed ``app/model``, as apps do."""
    produce_raw(bootstrap, topic, [to_json_line(e) for e in events],
                keys=[stream_key(e) for e in events])


def stored_ids(dep: Deployment) -> set[str]:
    return {r[0] for r in dep.query("SELECT event_id FROM events FINAL")}


def assert_events_exactly_once(dep: Deployment, events: list[dict]) -> None:
    """Every event is one row (with FINAL), and nothing else is stored."""
    assert dep.scalar(COUNT_FINAL) == len(events)
    assert dep.scalar("SELECT uniqExact(event_id) FROM events") == len(events)
    assert stored_ids(dep) == {e["event_id"] for e in events}


def windows_of(events: list[dict]) -> Counter[tuple[str, str, int]]:
    """Events per (app, model, window start in epoch seconds)."""
    counts: Counter[tuple[str, str, int]] = Counter()
    for e in events:
        epoch = int(datetime.fromisoformat(e["timestamp"]).timestamp())
        counts[(e["app"], e["model"], epoch - epoch % WINDOW_SECONDS)] += 1
    return counts


def tested_windows(events: list[dict], reference_events: int) -> set[tuple[str, str, int]]:
    """Windows a detector compares with the first-k reference: those after the window that
    holds each key's ``reference_events``-th event (what :mod:`streams.windows.references`
    computes)."""
    by_key: dict[tuple[str, str], list[int]] = {}
    for app, model, start in sorted(windows_of(events).elements()):
        by_key.setdefault((app, model), []).append(start)
    tested = set()
    for (app, model), starts in by_key.items():
        if len(starts) < reference_events:
            continue
        reference_end = starts[reference_events - 1] + WINDOW_SECONDS
        tested |= {(app, model, s) for s in starts if s >= reference_end}
    return tested


def assert_windows_exactly_once(dep: Deployment, events: list[dict], reference_events: int) -> None:
    """One aggregate row per key and window counting every event once, and test results for
    every window after the reference, for no other window."""
    expected = windows_of(events)
    rows = dep.query(
        "SELECT app, model, toUnixTimestamp(window_start), events FROM window_metrics FINAL"
    )
    stored = {(a, m, int(s)): n for a, m, s, n in rows}
    wrong = {w: (stored.get(w), n) for w, n in expected.items() if stored.get(w) != n}
    assert not wrong, f"{len(wrong)} windows (stored, expected): {sorted(wrong.items())[:5]}"
    assert len(rows) == len(expected), sorted(stored.keys() - expected.keys())[:5]
    assert dep.scalar("SELECT sum(events) FROM window_metrics FINAL") == len(events)
    drift = dep.query(
        "SELECT app, model, toUnixTimestamp(window_start), count() FROM drift FINAL "
        "GROUP BY app, model, window_start"
    )
    assert {(a, m, int(s)) for a, m, s, _ in drift} == tested_windows(events, reference_events)
    # Every window of a key ran the same tests: none half-written, none repeated.
    tests_per_key: dict[tuple[str, str], set[int]] = {}
    for app, model, _, n in drift:
        tests_per_key.setdefault((app, model), set()).add(n)
    assert all(len(n) == 1 for n in tests_per_key.values()), tests_per_key


def counters(dep: Deployment) -> dict[str, float]:
    # Generous (in Deployment.health): the first batch loads the toxicity model and holds the
    # event loop a while. A stalled worker answers 503 with its counters.
    return dep.health()[1]["counters"]


def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """The consumer group's committed offset per partition of ``topic`` (absent: none yet)."""

    async def run() -> dict[int, int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(group)
        finally:
            await admin.close()
        return {tp.partition: meta.offset for tp, meta in offsets.items()
                if tp.topic == topic and meta.offset >= 0}

    return asyncio.run(run())


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


def group_assignment(bootstrap: str, group: str, topic: str) -> list[set[int]]:
    """The partitions of ``topic`` each member of the consumer group owns (empty while the
    group rebalances)."""
    async def run() -> list[set[int]]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            [response] = await admin.describe_consumer_groups([group])
        finally:
            await admin.close()
        [(_, _, state, _, _, members, *_)] = response.groups
        if state != "Stable":
            return []
        owned = []
        for *_, assignment in members:
            decoded = ConsumerProtocolMemberAssignment.decode(assignment)
            owned.append({p for t, parts in decoded.assignment if t == topic for p in parts})
        return owned

    return asyncio.run(run())


def query_stopped(dep: Deployment, sql: str) -> list[list[Any]]:
    """Query the store of a deployment whose worker is stopped, from a process of its own (the
    embedded engine allows one data directory per process)."""
    script = (
        "import json, sys; from streams.store.client import ClickHouseStore; "
        "print(json.dumps(ClickHouseStore(sys.argv[1]).query(sys.argv[2])[1], default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, dep.env()["SEISMO_CLICKHOUSE_URL"], sql],
        capture_output=True, text=True, timeout=120, env=dep.env(),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])
