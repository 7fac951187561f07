"""``seismo grafana push`` against a loopback server speaking Grafana's documented API.

A boundary test of our client code (see :mod:`tests.grafana.grafana_api`): what push sends,
and that pushing again updates the same objects instead of adding more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaUnauthorizedError
from typer.testing import CliRunner

from grafana.alert_rules import api_rules
from grafana.dashboards import all_dashboards
from grafana.datasource import DATASOURCE_UID, ClickHouseDatasource
from grafana.push import push
from streams.cli.grafana import grafana_app
from tests.grafana.dataset import RULE_SETTINGS
from tests.grafana.grafana_api import RecordingGrafana, serve

TOKEN = "glsa_test_token"
CREATES = {
    ("POST", "/api/datasources"),
    ("POST", "/api/folders"),
    ("POST", "/api/v1/provisioning/alert-rules"),
    ("POST", "/api/v1/provisioning/contact-points"),
}


@pytest.fixture
def grafana() -> Iterator[tuple[str, RecordingGrafana]]:
    with serve(TOKEN) as server:
        yield server


def _creates(recorder: RecordingGrafana, since: int = 0) -> Counter:
    return Counter((r.method, r.path) for r in recorder.requests[since:]
                   if (r.method, r.path) in CREATES)


def test_first_push_creates_everything_in_the_folder(grafana) -> None:
    url, recorder = grafana
    datasource, password = ClickHouseDatasource.from_url("https://ro:s3cret@ch.internal/seismo")
    results = push(GrafanaApi.from_url(url, credential=TOKEN), settings=RULE_SETTINGS,
                   datasource=datasource, password=password)

    assert {r.action for r in results} == {"created", "updated"}  # the policy tree is replaced
    state = recorder.state
    stored = state.datasources[DATASOURCE_UID]
    assert stored["jsonData"] | {} == datasource.json_data()
    assert stored["jsonData"]["port"] == 8443 and stored["jsonData"]["secure"] is True
    assert stored["secureJsonData"] == {"password": "s3cret"}
    assert set(state.dashboards) == set(all_dashboards())
    for uid, model in all_dashboards().items():
        assert state.dashboards[uid] | {"version": 1} == model | {"version": 1}
    assert sorted(state.rules) == sorted(rule["uid"] for rule in api_rules(RULE_SETTINGS))
    assert state.policy_tree["receiver"] == "Seismo Alertmanager"
    # Order matters to Grafana: the folder exists before anything is put in it.
    paths = [r.path for r in recorder.requests]
    assert paths.index("/api/folders") < paths.index("/api/dashboards/db")
    assert paths.index("/api/folders") < paths.index("/api/v1/provisioning/alert-rules")


def test_second_push_updates_in_place(grafana) -> None:
    url, recorder = grafana
    api = GrafanaApi.from_url(url, credential=TOKEN)
    first = push(api, settings=RULE_SETTINGS, password="pw")
    after_first = len(recorder.requests)
    snapshot = {name: dict(getattr(recorder.state, name))
                for name in ("datasources", "folders", "rules", "contact_points")}

    second = push(api, settings=RULE_SETTINGS, password=None)

    assert _creates(recorder, after_first) == Counter()
    assert [(r.kind, r.uid) for r in second] == [(r.kind, r.uid) for r in first]
    assert {r.action for r in second} == {"updated", "unchanged"}
    for name, before in snapshot.items():
        assert list(getattr(recorder.state, name)) == list(before), name
    assert set(recorder.state.dashboard_versions.values()) == {2}
    # No password on the second push: Grafana keeps the one it has.
    assert recorder.state.datasources[DATASOURCE_UID]["secureJsonData"] == {"password": "pw"}


def test_policy_tree_is_left_alone_on_request(grafana) -> None:
    url, recorder = grafana
    results = push(GrafanaApi.from_url(url, credential=TOKEN), settings=RULE_SETTINGS,
                   notification_policy=False)
    assert "notification-policy" not in {r.kind for r in results}
    assert recorder.state.policy_tree is None


def test_a_bad_token_is_refused_before_anything_changes(grafana) -> None:
    url, recorder = grafana
    with pytest.raises(GrafanaUnauthorizedError):
        push(GrafanaApi.from_url(url, credential="wrong"), settings=RULE_SETTINGS)
    assert recorder.state.datasources == {}


def test_cli_push_reports_each_object(grafana, monkeypatch) -> None:
    url, recorder = grafana
    monkeypatch.setenv("CLICKHOUSE_PASSWORD", "from-env")
    result = CliRunner().invoke(grafana_app, ["push", "--url", url, "--token", TOKEN])
    assert result.exit_code == 0, result.output
    assert "seismo-prompt-drift" in result.output and "created" in result.output
    assert recorder.state.datasources[DATASOURCE_UID]["secureJsonData"] == {
        "password": "from-env"
    }
