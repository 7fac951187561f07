"""Grafana-managed alert rules over Seismo's ClickHouse tables.

Each rule is the same three-step pipeline: query ``A`` (ClickHouse, table format: one row per
stream key, labelled ``app``/``model``/``prompt_version``, one numeric value), ``B`` reduces it
to a single value per stream (``last``; a no-op on rows, kept so a time series query works
too), and ``C`` is the threshold expression that fires.

The statistics stay in the detectors: the drift, toxicity and error-rate rules read the
decisions the window tests stored in ``drift`` (each taken at its configured alpha) and
fire when a stream's latest ``consecutive_windows`` windows all drifted, the same
"several windows in a row" rule as Seismo's own alerting. The latency rule compares the
latest window's p95 with a service-level objective, which is a choice of the operator rather
than a test.

These rules are a dashboard-side path beside Seismo's own alerting (``streams.alerting``); a
deployment that routes both to one Alertmanager gets each condition from both, with
different ``alertname`` labels.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from grafana_foundation_sdk.builders import alerting
from grafana_foundation_sdk.builders import expr as expressions
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.alerting import RelativeTimeRange
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from grafana import queries
from grafana.dashboards import APP_UID
from grafana.datasource import DATASOURCE_UID
from grafana.queries import SqlQuery

EXPRESSION_UID = "__expr__"
ORG_ID = 1
QUERY, REDUCE, CONDITION = "A", "B", "C"


@dataclass(frozen=True)
class AlertSettings:
    """What the rules watch and where they live.

    The worker's settings come from the caller (:meth:`following` reads them off a
    ``streams.settings.Settings``): ``grafana`` depends only on ``schemas`` and restates no
    default of the worker's.

    Parameters
    ----------
    window_seconds : float
        Length of Seismo's windows (the worker's ``window_seconds``); sets each rule's look-back.
    min_window_events : int
        Windows with fewer calls carry no latency verdict (their p95 is too noisy); the
        worker's ``min_window_events``.
    consecutive_windows : int
        Windows in a row a test must have drifted in before a drift/rate rule fires.
    latency_p95_slo_ms : float
        Objective for each stream's p95 latency per window, in milliseconds.
    evaluation_interval_s : int
        How often Grafana evaluates the group.
    folder_uid, folder_title, group : str
        Where the rules live in Grafana.
    """

    window_seconds: float
    min_window_events: int
    consecutive_windows: int = 2
    latency_p95_slo_ms: float = 2000.0
    evaluation_interval_s: int = 60
    folder_uid: str = "seismo"
    folder_title: str = "Seismo"
    group: str = "seismo"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.window_seconds) and self.window_seconds > 0):
            raise ValueError(f"window_seconds must be positive, got {self.window_seconds!r}")
        for name in ("consecutive_windows", "min_window_events", "evaluation_interval_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not (math.isfinite(self.latency_p95_slo_ms) and self.latency_p95_slo_ms > 0):
            raise ValueError(
                f"latency_p95_slo_ms must be positive, got {self.latency_p95_slo_ms!r}"
            )
        for name in ("folder_uid", "folder_title", "group"):
            if not getattr(self, name):
                raise ValueError(f"{name} must not be empty")

    @classmethod
    def following(cls, worker: Any, **changes: Any) -> AlertSettings:
        """The rules for a worker with these settings (a ``streams.settings.Settings``)."""
        return cls(window_seconds=worker.window_seconds,
                   min_window_events=worker.min_window_events, **changes)

    def lookback_seconds(self, windows: int) -> int:
        """A range holding the latest ``windows`` closed windows, plus one for lateness."""
        return math.ceil((windows + 1) * self.window_seconds)


@dataclass(frozen=True)
class Threshold:
    """Grafana's threshold expression: fires when the value is above (``gt``) or below."""

    evaluator: Literal["gt", "lt"]
    value: float

    def fires(self, x: float) -> bool:
        """What the expression decides for a reduced value (NaN never fires)."""
        return x > self.value if self.evaluator == "gt" else x < self.value


@dataclass(frozen=True)
class AlertRule:
    """One rule: its query, look-back, threshold and what on-call reads."""

    uid: str
    title: str
    query: SqlQuery
    lookback_s: int
    threshold: Threshold
    severity: str
    summary: str
    description: str

    @property
    def value_column(self) -> str:
        return self.query.columns[-1]


def _drift_rule(
    settings: AlertSettings, uid: str, title: str, field: str, method: str | None,
    severity: str, what: str,
) -> AlertRule:
    windows = settings.consecutive_windows
    return AlertRule(
        uid=uid,
        title=title,
        query=queries.consecutive_drifted(field, method, windows),
        lookback_s=settings.lookback_seconds(windows),
        # Counts are whole numbers: more than windows - 1 drifted windows means all of them.
        threshold=Threshold("gt", windows - 1),
        severity=severity,
        summary=f"{what} on {{{{ $labels.app }}}}/{{{{ $labels.model }}}} in "
        f"{{{{ $values.{REDUCE}.Value }}}} consecutive windows",
        description=f"The window test on {field} decided 'changed' at its configured alpha "
        f"in each of the latest {windows} windows of this stream.",
    )


def alert_rules(settings: AlertSettings) -> list[AlertRule]:
    """Seismo's Grafana rules: prompt drift, latency SLO, toxicity and error rate."""
    return [
        _drift_rule(settings, "seismo-prompt-drift", "Prompt embedding drift (MMD)", "prompt",
                    "mmd", "warning", "Prompt drift (MMD)"),
        AlertRule(
            uid="seismo-latency-p95-slo",
            title="Latency p95 over SLO",
            query=queries.latest_latency_p95(settings.min_window_events),
            lookback_s=settings.lookback_seconds(1),
            threshold=Threshold("gt", settings.latency_p95_slo_ms),
            severity="error",
            summary="p95 latency of {{ $labels.app }}/{{ $labels.model }} is "
            f"{{{{ $values.{REDUCE}.Value }}}} ms (SLO {settings.latency_p95_slo_ms:g} ms)",
            description="The latest closed window's p95 latency is above the objective.",
        ),
        _drift_rule(settings, "seismo-toxicity-rate", "Toxicity rate increased", "toxicity", None,
                    "critical", "Toxicity rate increase"),
        _drift_rule(settings, "seismo-error-rate", "Error rate increased", "error_rate", None,
                    "critical", "Error rate increase"),
    ]


def _expression_ref() -> DataSourceRef:
    return DataSourceRef(type_val=EXPRESSION_UID, uid=EXPRESSION_UID)


def _build(rule: AlertRule, settings: AlertSettings) -> alerting.Rule:
    reduce = (
        expressions.TypeReduce()
        .ref_id(REDUCE)
        .datasource(_expression_ref())
        .expression(QUERY)
        .reducer("last")
        # A stream whose value is NaN (no evidence) is left out instead of failing the rule.
        .settings(expressions.ExprTypeReduceSettings().mode("dropNN"))
    )
    threshold = (
        expressions.TypeThreshold()
        .ref_id(CONDITION)
        .datasource(_expression_ref())
        .expression(REDUCE)
        .conditions(
            [
                expressions.ExprTypeThresholdConditions().evaluator(
                    expressions.ExprTypeThresholdConditionsEvaluator()
                    .type(rule.threshold.evaluator)
                    .params([rule.threshold.value])
                )
            ]
        )
    )
    now = RelativeTimeRange(from_val=0, to=0)
    return (
        alerting.Rule(rule.title)
        .uid(rule.uid)
        .org_id(ORG_ID)
        .folder_uid(settings.folder_uid)
        .rule_group(settings.group)
        .condition(CONDITION)
        .for_val("0s")  # the queries already demand consecutive windows
        .no_data_state("OK")  # no traffic is not an incident of these rules
        .exec_err_state("Error")
        .labels({"severity": rule.severity, "source": "seismo-grafana"})
        .annotations(
            {
                "summary": rule.summary,
                "description": rule.description,
                "dashboard": f"/d/{APP_UID}?var-app={{{{ $labels.app }}}}"
                "&var-model={{ $labels.model }}",
            }
        )
        .with_query(
            alerting.Query(QUERY)
            .datasource_uid(DATASOURCE_UID)
            .relative_time_range(RelativeTimeRange(from_val=rule.lookback_s, to=0))
            .model(rule.query.target(QUERY))
        )
        .with_query(
            alerting.Query(REDUCE)
            .datasource_uid(EXPRESSION_UID)
            .relative_time_range(now)
            .model(reduce)
        )
        .with_query(
            alerting.Query(CONDITION)
            .datasource_uid(EXPRESSION_UID)
            .relative_time_range(now)
            .model(threshold)
        )
    )


def api_rules(settings: AlertSettings) -> list[dict[str, Any]]:
    """Bodies for ``/api/v1/provisioning/alert-rules`` (POST to create, PUT by uid)."""
    return [
        json.loads(json.dumps(_build(rule, settings).build(), cls=JSONEncoder))
        for rule in alert_rules(settings)
    ]


# Keys a rule keeps in the file-provisioning format (folder and group move to the group).
_FILE_RULE_KEYS = (
    "uid", "title", "condition", "data", "noDataState", "execErrState", "for",
    "annotations", "labels", "isPaused",
)


def provisioning_file(settings: AlertSettings) -> dict[str, Any]:
    """The ``alerting/`` provisioning file with the rule group."""
    rules = [
        {key: rule[key] for key in _FILE_RULE_KEYS if key in rule} | {"isPaused": False}
        for rule in api_rules(settings)
    ]
    return {
        "apiVersion": 1,
        "groups": [
            {
                "orgId": ORG_ID,
                "name": settings.group,
                "folder": settings.folder_title,
                "interval": f"{settings.evaluation_interval_s}s",
                "rules": rules,
            }
        ],
    }
