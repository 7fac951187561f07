"""Walking skeleton, end to end on the real broker: Kafka → worker → ClickHouse / DLQ."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from streams.testing.generator import GeneratorConfig, TrafficGenerator, to_json_line
from streams.testing.publish import stream_key
from tests.support.workers import Deployment, produce_raw, read_topic, wait_for

COUNT_FINAL = "SELECT count() FROM events FINAL"
MAX_EVENT_BYTES = 65_536


def generated(n: int, seed: int = 0) -> list[dict]:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    return list(TrafficGenerator(GeneratorConfig(seed=seed, start=start)).events(n))


def publish_events(dep: Deployment, events: list[dict]) -> None:
    produce_raw(
        dep.bootstrap,
        dep.traces_topic,
        [to_json_line(e) for e in events],
        keys=[stream_key(e) for e in events],
    )


def valid_base() -> dict:
    return {
        "event_id": "bad",
        "timestamp": "2025-01-01T00:00:00Z",
        "app": "a",
        "model": "m",
        "latency_ms": 5,
        "prompt": "p",
    }


def malformed_records() -> list[tuple[str, bytes]]:
    """Fifty bad records: (expected DLQ reason, bytes), every class of bad input."""
    future = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    kinds: list[tuple[str, bytes]] = [
        ("invalid_json", b"not json at all"),
        ("invalid_json", b'{"event_id": "x", "timestamp": '),
        ("invalid_json", b'{"latency_ms": NaN}'),
        ("invalid_utf8", b"\xff\xfe\xfd"),
        ("invalid_utf8", b'{"event_id": "\xc3\x28", "app": "a"}'),
        ("schema", b"[1, 2, 3]"),
        ("schema", b'"just a string"'),
        ("schema", json.dumps({**valid_base(), "latency_ms": "fast"}).encode()),
        ("schema", json.dumps({**valid_base(), "latency_ms": -3}).encode()),
        ("schema", json.dumps({**valid_base(), "prompt_tokens": 1.5}).encode()),
        ("schema", json.dumps({k: v for k, v in valid_base().items() if k != "app"}).encode()),
        ("schema", json.dumps({k: v for k, v in valid_base().items() if k != "prompt"}).encode()),
        ("schema", json.dumps({**valid_base(), "timestamp": "yesterday"}).encode()),
        ("schema", json.dumps({**valid_base(), "timestamp": 1_700_000_000}).encode()),
        ("too_large", json.dumps({**valid_base(), "prompt": "x" * MAX_EVENT_BYTES}).encode()),
        ("timestamp_in_future", json.dumps({**valid_base(), "timestamp": future}).encode()),
        ("empty", b""),
    ]
    return [kinds[i % len(kinds)] for i in range(50)]


def test_valid_events_land_once_and_malformed_ones_reach_the_dlq(deployment: Deployment) -> None:
    deployment.extra_env["SEISMO_MAX_EVENT_BYTES"] = str(MAX_EVENT_BYTES)
    events = generated(2000)
    bad = malformed_records()
    publish_events(deployment, events[:1000])
    produce_raw(deployment.bootstrap, deployment.traces_topic, [raw for _, raw in bad])
    publish_events(deployment, events[1000:])
    deployment.start()

    deployment.wait_rows(COUNT_FINAL, 2000)
    dead = read_topic(deployment.bootstrap, deployment.dlq_topic, 50)
    assert len(dead) == 50
    reasons = sorted(dict(r.headers)["seismo.reason"].decode() for r in dead)
    assert reasons == sorted(reason for reason, _ in bad)
    assert sorted(r.value or b"" for r in dead) == sorted(raw for _, raw in bad)
    assert all(dict(r.headers)["seismo.detail"] for r in dead)

    # Still consuming after the bad input; a replay of all 2,000 adds nothing.
    publish_events(deployment, generated(10, seed=99))
    deployment.wait_rows(COUNT_FINAL, 2010)
    publish_events(deployment, events)
    wait_for(lambda: _records_seen(deployment) >= 2000 + 50 + 10 + 2000, 120, "the replay")
    assert deployment.scalar(COUNT_FINAL) == 2010
    assert deployment.scalar("SELECT uniqExact(event_id) FROM events") == 2010

    # Derived fields: total tokens, output tokens per second, cost from the price table.
    row = deployment.query(
        "SELECT total_tokens, prompt_tokens + completion_tokens, cost_usd, output_tokens_per_s "
        "FROM events FINAL WHERE model = 'gpt-4o-mini' AND status = 'ok' LIMIT 1"
    )[0]
    assert row[0] == row[1] and row[2] > 0 and row[3] > 0


def _records_seen(dep: Deployment) -> float:
    import urllib.request

    with urllib.request.urlopen(dep.api + "/api/health", timeout=5) as response:
        return json.loads(response.read())["counters"].get("seismo_records_total", 0)


def test_sigterm_half_way_loses_and_duplicates_nothing(deployment: Deployment) -> None:
    deployment.extra_env["SEISMO_BATCH_SIZE"] = "100"
    events = generated(2000, seed=1)
    publish_events(deployment, events)
    deployment.start()
    wait_for(lambda: deployment.scalar("SELECT count() FROM events") >= 300, 90, "300 rows")
    assert deployment.stop(signal.SIGTERM) == 0
    deployment.start()
    deployment.wait_rows(COUNT_FINAL, 2000)
    assert deployment.scalar("SELECT uniqExact(event_id) FROM events") == 2000
    ids = {e["event_id"] for e in events}
    stored = {r[0] for r in deployment.query("SELECT event_id FROM events FINAL")}
    assert stored == ids

    # `seismo status` reads through the running worker, and opens the store when none runs.
    apps = {e["app"] for e in events}
    for _ in ("through the worker", "directly"):
        status = subprocess.run(
            [sys.executable, "-m", "streams", "status", "--minutes", "60", "--json"],
            env=deployment.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert status.returncode == 0, status.stderr
        rows = json.loads(status.stdout)
        assert {r["app"] for r in rows} == apps
        assert sum(r["events"] for r in rows) == 2000
        if deployment.process is not None:
            deployment.stop()


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"SEISMO_CLICKHOUSE_URL": "mysql://db:3306/x"}, "clickhouse_url"),
        ({"SEISMO_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}, "kafka_bootstrap_servers"),
        ({"SEISMO_BATCH_SIZE": "many"}, "SEISMO_BATCH_SIZE"),
        ({"SEISMO_REDACTION_POLICY": "shred"}, "redaction_policy"),
        ({"SEISMO_WEB_HOST": "0.0.0.0"}, "web_host"),  # the network, and no api_token
    ],
)
def test_bad_configuration_is_one_line_naming_the_setting(tmp_path, env, setting) -> None:
    base = {
        "SEISMO_CLICKHOUSE_URL": f"chdb://{tmp_path / 'chdb'}",
        "SEISMO_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "streams", "worker"],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert setting in lines[0] and "Traceback" not in lines[0]
