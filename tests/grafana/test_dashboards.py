"""Every panel query of the generated dashboards runs in ClickHouse and returns what its
panel expects; the panels show the incident and the drill-down shows only what was chosen."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from numbers import Real
from typing import Any

import pytest

from grafana import queries as q
from grafana.alert_rules import alert_rules
from grafana.clickhouse_query import QueryFormat
from grafana.dashboards import APP_UID, all_dashboards
from grafana.datasource import DATASOURCE_TYPE, DATASOURCE_UID
from grafana.generate import DASHBOARD_DIR, PROVISIONING
from grafana.queries import SqlQuery
from streams.store.client import ClickHouseStore
from tests.grafana.dataset import (
    CLEAN,
    FIRING_FINGERPRINT,
    INCIDENT,
    INCIDENT_APP,
    N_CLUSTERS,
    NEW_TOPIC_CHANGE,
    RULE_SETTINGS,
    SAMPLED_PER_WINDOW,
    STREAMS,
    THIN_MDE,
    THIN_STREAM,
    USUAL_MDE,
    WORKER,
)
from tests.grafana.evaluation import run

DECLARED = {value.sql: value for value in vars(q).values() if isinstance(value, SqlQuery)}
# The committed files Grafana loads (test_generate checks they are what the code makes).
DASHBOARDS = {
    path.stem: json.loads(path.read_text())
    for path in sorted((PROVISIONING / DASHBOARD_DIR).glob("*.json"))
}


def _targets() -> list[Any]:
    return [
        pytest.param(uid, panel, target, id=f"{uid}/{panel['title']}")
        for uid, model in DASHBOARDS.items()
        for panel in model["panels"]
        for target in panel.get("targets", [])
    ]


def test_every_dashboard_is_committed() -> None:
    assert set(DASHBOARDS) == set(all_dashboards())


@pytest.fixture(scope="module")
def variables(store: ClickHouseStore) -> dict[str, list[str]]:
    """The drill-down's variables set to "All", as Grafana resolves them: app first."""
    _, apps = run(store, q.APP_VARIABLE.sql, INCIDENT.start, INCIDENT.end)
    app_values = [row[0] for row in apps]
    _, models = run(store, q.MODEL_VARIABLE.sql, INCIDENT.start, INCIDENT.end,
                    {"app": app_values})
    return {"app": app_values, "model": [row[0] for row in models]}


def test_variables_list_the_streams_and_model_follows_app(store: ClickHouseStore) -> None:
    _, rows = run(store, q.APP_VARIABLE.sql, INCIDENT.start, INCIDENT.end)
    assert [r[0] for r in rows] == sorted({app for app, _ in STREAMS})
    _, rows = run(store, q.MODEL_VARIABLE.sql, INCIDENT.start, INCIDENT.end,
                  {"app": [INCIDENT_APP]})
    assert [r[0] for r in rows] == sorted(m for a, m in STREAMS if a == INCIDENT_APP)


def _check_time_series(columns: tuple[str, ...], rows: list[list[Any]]) -> None:
    times = [row[0] for row in rows]
    assert all(isinstance(t, datetime) for t in times)
    assert times == sorted(times), "time series rows must come sorted by time"
    for row in rows:
        for name, value in zip(columns[1:], row[1:], strict=True):
            assert isinstance(value, str | Real) or value is None, (name, value)


@pytest.mark.parametrize(("uid", "panel", "target"), _targets())
def test_panel_query_returns_its_declared_columns(
    store: ClickHouseStore, variables: dict[str, list[str]], uid: str, panel: dict, target: dict
) -> None:
    declared = DECLARED.get(target["rawSql"])
    assert declared is not None, "every panel query comes from grafana.queries"
    assert target["datasource"] == {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}
    assert target["format"] == declared.format
    panel_variables = variables if uid == APP_UID else {}
    columns, rows = run(store, target["rawSql"], INCIDENT.start, INCIDENT.end, panel_variables)
    assert tuple(columns) == declared.columns
    assert rows, "the incident hour has data for every panel"
    if declared.format is QueryFormat.TIME_SERIES:
        _check_time_series(declared.columns, rows)


def test_error_rate_panel_shows_the_incident_app(store: ClickHouseStore) -> None:
    # One bucket over the incident's half hour, as a panel zoomed out that far shows it.
    half_hour = (INCIDENT.end - INCIDENT.middle).total_seconds()
    _, rows = run(store, q.ERROR_RATE_BY_APP.sql, INCIDENT.middle, INCIDENT.end,
                  interval_s=half_hour)
    rates = {app: rate for _, app, rate in rows}
    assert max(rates, key=rates.get) == INCIDENT_APP
    assert rates[INCIDENT_APP] > 5 * max(r for a, r in rates.items() if a != INCIDENT_APP)


def test_drilldown_shows_only_the_chosen_app(store: ClickHouseStore) -> None:
    models = sorted(m for a, m in STREAMS if a == INCIDENT_APP)
    chosen = {"app": [INCIDENT_APP], "model": models}
    _, rows = run(store, q.APP_TRAFFIC.sql, INCIDENT.start, INCIDENT.end, chosen)
    assert {row[1] for row in rows} == set(models)
    _, rows = run(store, q.APP_ALERT_TRANSITIONS.sql, INCIDENT.start, INCIDENT.end, chosen)
    assert rows and {row[4] for row in rows} <= set(models)


def test_firing_alerts_are_those_whose_latest_transition_fires(store: ClickHouseStore) -> None:
    # The clean hour's alert fired and resolved; the incident hour leaves one firing.
    _, clean = run(store, q.FIRING_ALERTS.sql, CLEAN.start, CLEAN.end)
    assert clean == []
    _, incident = run(store, q.FIRING_ALERTS.sql, INCIDENT.start, INCIDENT.end)
    assert [row[0] for row in incident] == [FIRING_FINGERPRINT]
    _, [[count]] = run(store, q.FIRING_COUNT.sql, INCIDENT.start, INCIDENT.end)
    assert count == 1


_TABLE_READ = re.compile(rf"\b(?:FROM|JOIN)\s+({'|'.join(q.TABLES)})\b(\s+AS\s+\w+)?(\s+FINAL)?")


@pytest.mark.parametrize(
    "sql", [*DECLARED, *(rule.query.sql for rule in alert_rules(RULE_SETTINGS))],
    ids=lambda s: s[:60],
)
def test_every_table_is_read_with_final(sql: str) -> None:
    reads = _TABLE_READ.findall(sql)
    assert reads, "every query reads a Seismo table"
    assert all(final for _, _, final in reads), "ReplacingMergeTree tables need FINAL"


def test_topic_projection_draws_the_chosen_streams_placed_rows(store: ClickHouseStore) -> None:
    model = sorted(m for a, m in STREAMS if a == INCIDENT_APP)[0]
    chosen = {"app": [INCIDENT_APP], "model": [model]}
    _, rows = run(store, q.APP_TOPIC_PROJECTION.sql, INCIDENT.start, INCIDENT.end, chosen)
    windows = len(list(INCIDENT.windows()))
    # Every placed row of the stream, none stored before its topic model existed.
    assert len(rows) == windows * SAMPLED_PER_WINDOW
    assert {series for _, _, series in rows} <= {
        f"{model} prompt · cluster {c}" for c in range(N_CLUSTERS)}
    assert all(math.isfinite(x) and math.isfinite(y) for x, y, _ in rows)


def test_cluster_share_table_names_what_changed_in_the_incident(store: ClickHouseStore) -> None:
    _, rows = run(store, q.APP_CLUSTER_SHARE.sql, INCIDENT.start, INCIDENT.end,
                  {"app": [INCIDENT_APP], "model": [m for a, m in STREAMS if a == INCIDENT_APP]})
    columns = q.APP_CLUSTER_SHARE.columns
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    changed = [r for r in records if r["drifted"]]
    assert changed and all(r["changed_clusters"] == NEW_TOPIC_CHANGE for r in changed)
    assert all(r["window_start"].replace(tzinfo=UTC) >= INCIDENT.middle for r in changed)
    assert all(r["changed_clusters"] == "" for r in records if not r["drifted"])


def test_drift_panels_show_the_minimum_detectable_effect_and_thin_windows(
    store: ClickHouseStore,
) -> None:
    """A thin stream's windows show a minimum detectable effect above drift_min_effect and
    count as insufficient_data, not as windows without drift; the others count none."""
    thin_hour = (CLEAN.start, CLEAN.middle)
    _, rows = run(store, q.DRIFT_MIN_DETECTABLE_EFFECT.sql, *thin_hour)
    by_series: dict[str, set[float]] = {}
    for _, series, mde in rows:
        by_series.setdefault(series.rsplit(" ", 1)[0], set()).add(mde)
    thin = f"{THIN_STREAM[0]}/{THIN_STREAM[1]}"
    assert by_series[thin] == {THIN_MDE} and WORKER.drift_min_effect < THIN_MDE
    assert all(v == {USUAL_MDE} for k, v in by_series.items() if k != thin)
    for app, model in STREAMS:
        _, counts = run(store, q.APP_DRIFT_COUNTS.sql, *thin_hour,
                        {"app": [app], "model": [model]})
        insufficient = sum(r[3] for r in counts)
        assert (insufficient > 0) == ((app, model) == THIN_STREAM), (app, model, insufficient)
    _, table = run(store, q.APP_CLUSTER_SHARE.sql, *thin_hour,
                   {"app": [THIN_STREAM[0]], "model": [THIN_STREAM[1]]})
    records = [dict(zip(q.APP_CLUSTER_SHARE.columns, r, strict=True)) for r in table]
    assert records and {r["verdict"] for r in records if not r["drifted"]} == {
        "insufficient_data"}
    assert all(r["min_detectable_effect"] == THIN_MDE for r in records)
