"""The `seismo` command as a person runs it."""

from __future__ import annotations

import os
import subprocess
import sys

from schemas.events import TRACE_DECODER
from streams.testing.ports import free_port


def seismo(
    *args: str, env: dict | None = None, timeout: float = 180
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "streams", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_kafka_up_status_down_runs_a_real_broker(kafka_bootstrap: str) -> None:
    # kafka_bootstrap first: the session broker has fetched the jars this test reuses.
    port = str(free_port(pairs=2))
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": "",
        "SEISMO_KAFKA_VERSION": os.environ.get("SEISMO_KAFKA_VERSION", "3.9.1"),
    }
    up = seismo("kafka", "up", "--port", port, env=env)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"127.0.0.1:{port}" in up.stdout
        status = seismo("kafka", "status", "--port", port, env=env)
        assert status.returncode == 0 and "pid" in status.stdout, status.stdout + status.stderr
    finally:
        down = seismo("kafka", "down", "--port", port, env=env)
    assert "stopped" in down.stdout, down.stdout + down.stderr
    assert seismo("kafka", "status", "--port", port, env=env).returncode == 1


def test_kafka_up_uses_an_external_cluster_when_one_is_named() -> None:
    result = seismo("kafka", "up", env={"KAFKA_BOOTSTRAP_SERVERS": "broker.example:9092"})
    assert result.returncode == 0 and "starting nothing" in result.stdout


def test_produce_writes_contract_valid_json_lines(tmp_path) -> None:
    out = tmp_path / "events.jsonl"
    result = seismo(
        "produce",
        "--n",
        "300",
        "--out",
        str(out),
        "--drift-at",
        "2s",
        "--toxic-rate",
        "0.1",
        "--latency-spike-at",
        "2026-01-01T00:00:03Z",
        "--start",
        "2026-01-01T00:00:00Z",
    )
    assert result.returncode == 0, result.stderr
    events = [TRACE_DECODER.decode(line) for line in out.read_bytes().splitlines()]
    assert len(events) == 300 and len({e.event_id for e in events}) == 300


def test_baseline_pin_without_a_worker_writes_the_store(tmp_path) -> None:
    env = {"SEISMO_CLICKHOUSE_URL": f"chdb://{tmp_path / 'chdb'}",
           "SEISMO_WEB_PORT": str(free_port()), "SEISMO_REFERENCE_POLICY": "pinned"}
    pinned = seismo("baseline", "pin", "--app", "support-bot", "--model", "gpt-4o-mini",
                    "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-02T00:00:00Z", env=env)
    assert pinned.returncode == 0, pinned.stderr
    assert "written by the store" in pinned.stdout
    bad = seismo("baseline", "pin", "--app", "a", "--model", "m", "--from", "tomorrow",
                 "--to", "2026-01-02T00:00:00Z", env=env)
    assert bad.returncode == 2 and "baseline" in bad.stderr and "Traceback" not in bad.stderr
    shown = seismo("baseline", "show", env=env)
    assert shown.returncode == 0 and "Active drift references" in shown.stdout
