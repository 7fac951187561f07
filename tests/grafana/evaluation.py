"""What Grafana does with a panel target or an alert rule, done against the test store.

Panels: the target's SQL with macros and variables expanded, run in ClickHouse. Alert rules:
the same for query ``A`` over the rule's relative time range, then the rule's own expression
models as provisioned (reduce ``last`` of a number is the number; the threshold's evaluator
decides), one verdict per row, i.e. per alert instance.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from grafana.alert_rules import Threshold
from grafana.macros import Variables, expand_macros
from streams.store.client import ClickHouseStore

# Grafana's default for alert queries (intervalMs 1000); panels get one from their width.
ALERT_INTERVAL_S = 1.0
PANEL_INTERVAL_S = 60.0


def run(
    store: ClickHouseStore, sql: str, start: datetime, end: datetime,
    variables: Variables | None = None, interval_s: float = PANEL_INTERVAL_S,
) -> tuple[list[str], list[list[Any]]]:
    return store.query(expand_macros(sql, start, end, interval_s, variables))


def _by_ref(rule: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {query["refId"]: query for query in rule["data"]}


def evaluate_rule(
    store: ClickHouseStore, rule: dict[str, Any], at: datetime
) -> dict[tuple[str, ...], tuple[float, bool]]:
    """Labels → (value, fires) for a provisioned rule evaluated at ``at``."""
    queries = _by_ref(rule)
    condition = queries[rule["condition"]]["model"]
    assert condition["type"] == "threshold"
    reduce = queries[condition["expression"]]["model"]
    assert reduce["type"] == "reduce" and reduce["reducer"] == "last"
    source = queries[reduce["expression"]]
    lookback = timedelta(seconds=source["relativeTimeRange"]["from"])
    columns, rows = run(
        store, source["model"]["rawSql"], at - lookback, at, interval_s=ALERT_INTERVAL_S
    )
    (evaluator,) = [c["evaluator"] for c in condition["conditions"]]
    threshold = Threshold(evaluator["type"], evaluator["params"][0])
    verdicts = {}
    for row in rows:
        *labels, value = row
        assert all(isinstance(label, str) for label in labels), (columns, row)
        verdicts[tuple(labels)] = (float(value), threshold.fires(float(value)))
    return verdicts
