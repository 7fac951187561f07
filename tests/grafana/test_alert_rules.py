"""Every provisioned alert rule, evaluated as Grafana would on the test data: it fires for the
incident's streams and for no stream of the clean hour."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import yaml

from grafana.alert_rules import AlertRule, alert_rules, provisioning_file
from grafana.generate import PROVISIONING
from grafana.queries import STREAM
from schemas.alert_rule_file import parse_rules
from streams.store.client import ClickHouseStore
from streams.windows.clock import StreamKey
from tests.grafana.dataset import (
    CLEAN,
    FALSE_ALARM_STREAM,
    INCIDENT,
    INCIDENT_APP,
    RULE_SETTINGS,
    STREAMS,
)
from tests.grafana.evaluation import ALERT_INTERVAL_S, evaluate_rule, run

# The committed file Grafana loads (test_generate checks it is what the code makes).
RULES = yaml.safe_load((PROVISIONING / "alerting/rules.yaml").read_text())["groups"][0]["rules"]
INCIDENT_STREAMS = {(app, model, "") for app, model in STREAMS if app == INCIDENT_APP}


def _firing(verdicts: dict[tuple[str, ...], tuple[float, bool]]) -> set[tuple[str, ...]]:
    return {labels for labels, (_, fires) in verdicts.items() if fires}


@pytest.mark.parametrize("rule", RULES, ids=[r["uid"] for r in RULES])
def test_rule_fires_on_the_incident_and_not_on_clean_traffic(
    store: ClickHouseStore, rule: dict[str, Any]
) -> None:
    incident = evaluate_rule(store, rule, INCIDENT.end)
    clean = evaluate_rule(store, rule, CLEAN.end)
    # Every stream has a verdict (a value, firing or not), so the rule sees all of them.
    assert set(incident) == set(clean) == {(app, model, "") for app, model in STREAMS}
    assert _firing(incident) == INCIDENT_STREAMS
    assert _firing(clean) == set()


@pytest.mark.parametrize("rule", alert_rules(RULE_SETTINGS), ids=lambda r: r.uid)
def test_rule_query_returns_its_declared_columns(store: ClickHouseStore, rule: AlertRule) -> None:
    provisioned = next(r for r in RULES if r["uid"] == rule.uid)
    query = provisioned["data"][0]
    assert query["model"]["rawSql"] == rule.query.sql
    assert query["relativeTimeRange"] == {"from": rule.lookback_s, "to": 0}
    start = INCIDENT.end - timedelta(seconds=rule.lookback_s)
    columns, rows = run(store, rule.query.sql, start, INCIDENT.end, interval_s=ALERT_INTERVAL_S)
    assert tuple(columns) == rule.query.columns
    assert rows


def test_one_drifted_window_is_not_enough_to_page(store: ClickHouseStore) -> None:
    """The clean hour's last window of one stream drifted on every test; the rules that
    demand two windows in a row stay quiet, the same rules asking for one window page."""
    false_alarm = (*FALSE_ALARM_STREAM, "")
    strict = {r["uid"]: r for r in RULES}
    one_window = replace(RULE_SETTINGS, consecutive_windows=1)
    eager = {r["uid"]: r for r in provisioning_file(one_window)["groups"][0]["rules"]}
    drift_rules = [uid for uid in strict if uid != "seismo-latency-p95-slo"]
    for uid in drift_rules:
        value, fires = evaluate_rule(store, strict[uid], CLEAN.end)[false_alarm]
        assert (value, fires) == (1.0, False)
        assert _firing(evaluate_rule(store, eager[uid], CLEAN.end)) == {false_alarm}


def test_rule_pipeline_is_query_reduce_threshold() -> None:
    for rule in RULES:
        data = {q["refId"]: q for q in rule["data"]}
        assert rule["condition"] == "C"
        assert data["A"]["datasourceUid"] == "seismo-clickhouse"
        assert data["A"]["relativeTimeRange"]["from"] > 0
        assert data["B"]["model"] | {"type": "reduce", "expression": "A"} == data["B"]["model"]
        assert data["C"]["model"]["expression"] == "B"


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("window_seconds", 0.0),
        ("consecutive_windows", 0),
        ("latency_p95_slo_ms", float("nan")),
        ("min_window_events", 1.5),
        ("folder_uid", ""),
    ],
)
def test_settings_are_validated(argument: str, value: object) -> None:
    with pytest.raises(ValueError, match=argument):
        replace(RULE_SETTINGS, **{argument: value})


def test_a_rule_of_the_worker_s_model_pages_the_same_streams_in_grafana(
    store: ClickHouseStore,
) -> None:
    """One definition, either home: a rule as the worker's rule file writes it."""
    rules = parse_rules({"rules": [{
        "name": "HighErrorRate", "severity": "critical", "for_windows": 2,
        "signal": {"metric": "error_rate", "op": ">", "threshold": 0.1},
        "match": {"app": [INCIDENT_APP]},
        "labels": {"team": "ml-platform"},
        "annotations": {
            "summary": "{app}/{model}: errors over {threshold:.0%} in {value} windows",
            "runbook_url": "https://runbooks.example.com/errors",
        },
    }]})
    (rule,) = provisioning_file(RULE_SETTINGS, rules)["groups"][0]["rules"]
    assert rule["uid"] == rule["title"] == "HighErrorRate"
    assert rule["labels"]["team"] == "ml-platform"
    assert rule["annotations"]["summary"] == (
        "{{ $labels.app }}/{{ $labels.model }}: errors over 10% in {{ $values.B.Value }} windows"
    )
    assert rule["annotations"]["runbook_url"] == "https://runbooks.example.com/errors"
    incident = evaluate_rule(store, rule, INCIDENT.end)
    assert set(incident) == INCIDENT_STREAMS  # match: the other apps' streams are not queried
    assert _firing(incident) == INCIDENT_STREAMS
    assert _firing(evaluate_rule(store, rule, CLEAN.end)) == set()


def test_a_placeholder_only_the_worker_knows_is_refused() -> None:
    rules = parse_rules({"rules": [{
        "name": "PromptDrift", "severity": "warning",
        "signal": {"field": "prompt", "method": "mmd"},
        "annotations": {"summary": "{app}: p={p_value:.3f}"},
    }]})
    with pytest.raises(ValueError, match=r"annotations.summary: Grafana cannot fill \{p_value\}"):
        alert_rules(RULE_SETTINGS, rules=rules)


@pytest.mark.parametrize("key", [StreamKey("chat", "gpt-4o"), StreamKey("chat", "gpt-4o", "v3")])
def test_series_spell_the_stream_key_as_the_worker_does(
    store: ClickHouseStore, key: StreamKey
) -> None:
    _, rows = store.query(
        f"SELECT {STREAM} FROM (SELECT {{app:String}} AS app, {{model:String}} AS model, "
        "{pv:String} AS prompt_version)",
        {"app": key.app, "model": key.model, "pv": key.prompt_version},
    )
    assert [tuple(row) for row in rows] == [(key.label(),)]
