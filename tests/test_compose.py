"""docker-compose.yml is valid Compose, checked by the Compose v2 binary (no engine needed), and
the configuration it mounts is what the services need."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = Path(sys.executable).parent / "docker-compose"


def compose_config(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(COMPOSE), "-f", str(ROOT / "docker-compose.yml"), "--profile", "generator", "config",
         *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "SEISMO_API_TOKEN"}, **env},
    )


def test_compose_file_passes_docker_compose_config() -> None:
    result = compose_config(SEISMO_API_TOKEN="t" * 32)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert {"kafka", "clickhouse", "grafana", "alertmanager", "worker"} <= set(services)
    assert services["generator"]["profiles"] == ["generator"]
    assert services["worker"]["environment"]["SEISMO_API_TOKEN"] == "t" * 32


def test_compose_refuses_to_serve_the_api_without_a_token() -> None:
    result = compose_config()
    # This Compose binary exits 0 here, but renders nothing and says why.
    assert not result.stdout.strip()
    assert "required variable SEISMO_API_TOKEN is missing" in result.stderr


# The system logs a default ClickHouse server writes, each of which grows without bound unless
# given a TTL (streams' own tables get theirs from the retention settings).
SYSTEM_LOGS = {
    "query_log", "query_thread_log", "query_views_log", "part_log", "trace_log", "text_log",
    "metric_log", "asynchronous_metric_log", "error_log", "processors_profile_log",
    "asynchronous_insert_log", "backup_log", "s3queue_log", "blob_storage_log",
}


def test_the_clickhouse_server_bounds_every_system_log() -> None:
    result = compose_config("--format", "json", SEISMO_API_TOKEN="t" * 32)
    assert result.returncode == 0, result.stderr
    volumes = json.loads(result.stdout)["services"]["clickhouse"]["volumes"]
    mounts = {v["target"]: v for v in volumes}
    mount = mounts["/etc/clickhouse-server/config.d/system_log_ttl.xml"]
    assert mount["read_only"] and mount["type"] == "bind"

    root = ET.parse(mount["source"]).getroot()  # raises on invalid XML
    assert root.tag == "clickhouse"
    ttls = {log.tag: log.findtext("ttl", "") for log in root}
    assert not SYSTEM_LOGS - set(ttls), "system logs without a TTL"
    for log, ttl in ttls.items():
        assert re.fullmatch(r"event_date \+ INTERVAL \d+ DAY DELETE", ttl), (log, ttl)
