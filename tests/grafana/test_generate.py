"""The committed provisioning files are exactly what the code generates, and they fit together
(data source uid, dashboard folder, container paths)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from grafana.dashboards import all_dashboards
from grafana.datasource import DATASOURCE_TYPE, DATASOURCE_UID
from grafana.generate import CONTAINER_ROOT, DASHBOARD_DIR, PROVISIONING, rendered, stale, write
from streams.cli.grafana import grafana_app
from tests.grafana.dataset import RULE_SETTINGS

REPO = Path(__file__).resolve().parents[2]


def test_committed_files_are_what_the_code_generates() -> None:
    assert stale(RULE_SETTINGS) == [], (
        "run `seismo grafana generate` and commit grafana/provisioning")
    result = CliRunner().invoke(grafana_app, ["generate", "--check"])
    assert result.exit_code == 0, result.output


def test_write_creates_updates_and_prunes(tmp_path: Path) -> None:
    assert sorted(write(RULE_SETTINGS, tmp_path)) == sorted(rendered(RULE_SETTINGS))
    assert stale(RULE_SETTINGS, tmp_path) == [] and write(RULE_SETTINGS, tmp_path) == []
    leftover = tmp_path / DASHBOARD_DIR / "retired.json"
    leftover.write_text("{}")
    (tmp_path / "alerting/rules.yaml").write_text("edited by hand\n")
    assert stale(RULE_SETTINGS, tmp_path) == [
        "alerting/rules.yaml", f"{DASHBOARD_DIR}/retired.json"]
    write(RULE_SETTINGS, tmp_path)
    assert not leftover.exists() and stale(RULE_SETTINGS, tmp_path) == []


def test_cli_writes_and_checks_a_folder(tmp_path: Path) -> None:
    runner = CliRunner()
    stale_check = runner.invoke(grafana_app, ["generate", "--check", "--root", str(tmp_path)])
    assert stale_check.exit_code == 1 and "stale" in stale_check.output
    assert runner.invoke(grafana_app, ["generate", "--root", str(tmp_path)]).exit_code == 0
    fresh_check = runner.invoke(grafana_app, ["generate", "--check", "--root", str(tmp_path)])
    assert fresh_check.exit_code == 0, fresh_check.output


def _load(path: str) -> dict:
    return yaml.safe_load((PROVISIONING / path).read_text())


def test_provisioning_files_fit_together() -> None:
    (datasource,) = _load("datasources/clickhouse.yaml")["datasources"]
    assert (datasource["uid"], datasource["type"]) == (DATASOURCE_UID, DATASOURCE_TYPE)

    (provider,) = _load("dashboards/seismo.yaml")["providers"]
    assert provider["options"]["path"] == f"{CONTAINER_ROOT}/{DASHBOARD_DIR}"
    files = sorted((PROVISIONING / DASHBOARD_DIR).glob("*.json"))
    assert [json.loads(f.read_text())["uid"] for f in files] == sorted(all_dashboards())

    (group,) = _load("alerting/rules.yaml")["groups"]
    assert group["folder"] == provider["folder"]
    (contact,) = _load("alerting/contact_points.yaml")["contactPoints"]
    (policy,) = _load("alerting/policies.yaml")["policies"]
    assert policy["receiver"] == contact["name"]


def test_compose_mounts_the_provisioning_folder_where_the_files_point() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert any(
        m.split(":")[:2] == ["./grafana/provisioning", CONTAINER_ROOT] for m in mounts
    ), mounts


def test_every_panel_queries_the_seismo_datasource() -> None:
    for model in all_dashboards().values():
        ids = [panel["id"] for panel in model["panels"]]
        assert len(set(ids)) == len(ids)
        for panel in model["panels"]:
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] == DATASOURCE_UID
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, panel["title"]
