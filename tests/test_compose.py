"""docker-compose.yml is valid Compose, checked by the Compose v2 binary (no engine needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = Path(sys.executable).parent / "docker-compose"


def test_compose_file_passes_docker_compose_config() -> None:
    result = subprocess.run(
        [str(COMPOSE), "-f", str(ROOT / "docker-compose.yml"), "--profile", "generator", "config"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert {"kafka", "clickhouse", "grafana", "alertmanager", "worker"} <= set(services)
    assert services["generator"]["profiles"] == ["generator"]
