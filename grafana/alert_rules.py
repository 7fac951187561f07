"""Grafana-managed alert rules over Seismo's ClickHouse tables, made from the alert-rule model.

An alert is defined once, as a :class:`~schemas.alert_rules.Rule` (the model Seismo's worker
reads its rule file into); :func:`alert_rules` turns rules into Grafana's form, Seismo's own
set (:func:`seismo_rules`) by default or any other :class:`~schemas.alert_rules.RuleSet`, the
worker's rule file included. Title and uid are the rule's name, so both homes name an alert
alike.

Each rule is the same three-step pipeline: query ``A`` (ClickHouse, table format: one row per
stream key, labelled ``app``/``model``/``prompt_version``) counts in how many of the stream's
latest ``for_windows`` windows the rule's condition held (a detector's stored decision in
``drift``, or a ``window_metrics`` column against its threshold); ``B`` reduces it to a single
value per stream (``last``; a no-op on rows, kept so a time series query works too), and ``C``
fires when it held in all of them. ``resolve_after_windows`` is the worker's alone: Grafana
resolves once the condition no longer held in every one of those windows.

Annotations are the rule's templates: ``{app}``, ``{model}``, ``{prompt_version}`` become
Grafana's labels and ``{value}`` the query's value (the number of windows the condition held
in); a placeholder only the worker knows (``{p_value}``, ``{window_end}`` ...) is an error.
The statistics stay in the detectors: a drift rule reads the decisions the window tests stored
(each taken at its configured alpha).
"""

from __future__ import annotations

import json
import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from grafana_foundation_sdk.builders import alerting
from grafana_foundation_sdk.builders import expr as expressions
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.alerting import RelativeTimeRange
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from grafana import queries
from grafana.dashboards import APP_UID
from grafana.datasource import DATASOURCE_UID
from grafana.queries import RULE_LABELS, SqlQuery
from schemas.alert_rule_file import parse_rules
from schemas.alert_rules import DetectorSelector, MetricSelector, Rule, RuleSet
from schemas.tables import DRIFT, INSUFFICIENT_DATA_VERDICT, WINDOW_METRICS

EXPRESSION_UID = "__expr__"
ORG_ID = 1
QUERY, REDUCE, CONDITION = "A", "B", "C"
_UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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
    """One rule as Grafana runs it: its query, look-back, threshold and what on-call reads."""

    uid: str
    title: str
    query: SqlQuery
    lookback_s: int
    threshold: Threshold
    severity: str
    summary: str
    description: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)  # runbook_url ...


def seismo_rules(settings: AlertSettings) -> RuleSet:
    """Seismo's Grafana rules, in the alert-rule model the worker's rule file is read into:
    prompt drift, latency SLO, toxicity and error rate."""
    n = settings.consecutive_windows

    def changed(name: str, field: str, method: str, severity: str, what: str) -> dict:
        return {
            "name": name, "severity": severity, "for_windows": n,
            "signal": {"field": field, "method": method},
            "annotations": {
                "summary": f"{what} on {{app}}/{{model}} in {{value}} consecutive windows",
                "description": f"The window test on {field} decided 'changed' at its configured "
                f"alpha in each of the latest {n} windows of this stream.",
            },
        }

    return parse_rules({"rules": [
        changed("seismo-prompt-drift", "prompt", "mmd", "warning", "Prompt drift (MMD)"),
        {
            "name": "seismo-latency-p95-slo", "severity": "error", "for_windows": 1,
            "signal": {"metric": "latency_p95", "op": ">",
                       "threshold": settings.latency_p95_slo_ms},
            "annotations": {
                "summary": "p95 latency of {app}/{model} is over the SLO of {threshold:g} ms",
                "description": "The latest closed window's p95 latency is above the objective.",
            },
        },
        changed("seismo-toxicity-rate", "toxicity", "toxicity_fisher", "critical",
                "Toxicity rate increase"),
        changed("seismo-error-rate", "error_rate", "error_rate_fisher", "critical",
                "Error rate increase"),
    ]}, source="grafana.alert_rules")


def alert_rules(
    settings: AlertSettings, rules: RuleSet | None = None
) -> list[AlertRule]:
    """Grafana rules of ``rules`` (by default :func:`seismo_rules`): each fires when its
    condition held in each of the stream's latest ``for_windows`` windows."""
    return [_grafana_rule(rule, settings) for rule in (rules or seismo_rules(settings))]


def _grafana_rule(rule: Rule, settings: AlertSettings) -> AlertRule:
    if not _UID.match(rule.name):
        raise ValueError(f"rule {rule.name!r}: a Grafana uid is 1-40 of A-Z a-z 0-9 - _")
    n = rule.for_windows
    texts = {key: _go_template(rule, key, template) for key, template in rule.templates().items()}
    return AlertRule(
        uid=rule.name,
        title=rule.name,  # Grafana's alertname, as the worker's alerts are named
        query=_query(rule, settings),
        lookback_s=settings.lookback_seconds(n),
        # Counts are whole numbers: more than n - 1 windows means all of them.
        threshold=Threshold("gt", n - 1),
        severity=rule.severity,
        summary=texts.pop("summary"),
        description=texts.pop("description", rule.signal.describe()),
        labels=rule.labels,
        annotations=texts,
    )


def _query(rule: Rule, settings: AlertSettings) -> SqlQuery:
    signal = rule.signal
    filters = tuple(
        f"{key} IN ({', '.join(_literal(v) for v in values)})"
        for key, values in rule.match.items()
    )
    if isinstance(signal, DetectorSelector):
        return queries.windows_held(
            DRIFT, signal.condition, rule.for_windows,
            # A window too small to detect the minimum effect is no evidence either way: it
            # neither extends nor breaks a run (as streams/alerting/selectors.py reads it).
            (f"field = {_literal(signal.field)}", f"method = {_literal(signal.method)}",
             f"verdict != {_literal(INSUFFICIENT_DATA_VERDICT)}", *filters),
            "drifted_windows",
        )
    if not _COLUMN.match(signal.metric):
        raise ValueError(f"rule {rule.name!r}: {signal.metric!r} is not a window_metrics column")
    # Windows with few calls carry no verdict on a metric (a p95 of three calls is noise).
    return queries.windows_held(
        WINDOW_METRICS, f"{signal.metric} {signal.op} {signal.threshold!r}", rule.for_windows,
        (f"events >= {settings.min_window_events}", *filters), f"{signal.metric}_windows",
    )


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class _GoExpression(str):
    """A placeholder Grafana fills in when it notifies (a label, the query's value)."""


class _Annotations(string.Formatter):
    """Renders a rule's annotation template for Grafana: placeholders Grafana knows become its
    template expressions, without the Python format spec (Go templates take none)."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        if isinstance(value, _GoExpression):
            return value
        return super().format_field(value, format_spec)


def _go_template(rule: Rule, key: str, template: str) -> str:
    signal = rule.signal
    known: dict[str, Any] = {
        "rule": rule.name, "severity": rule.severity,
        **{label: _GoExpression(f"{{{{ $labels.{label} }}}}") for label in RULE_LABELS},
        "value": _GoExpression(f"{{{{ $values.{REDUCE}.Value }}}}"),
        **({"metric": signal.metric, "op": signal.op, "threshold": signal.threshold}
           if isinstance(signal, MetricSelector) else
           {"field": signal.field, "method": signal.method}),
    }
    try:
        return _Annotations().vformat(template, (), known)
    except KeyError as exc:
        raise ValueError(
            f"rule {rule.name!r}: annotations.{key}: Grafana cannot fill {{{exc.args[0]}}}"
        ) from None


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
        .labels({**rule.labels, "severity": rule.severity, "source": "seismo-grafana"})
        .annotations(
            {
                "summary": rule.summary,
                "description": rule.description,
                "dashboard": f"/d/{APP_UID}?var-app={{{{ $labels.app }}}}"
                "&var-model={{ $labels.model }}",
                **rule.annotations,
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


def api_rules(
    settings: AlertSettings, rules: RuleSet | None = None
) -> list[dict[str, Any]]:
    """Bodies for ``/api/v1/provisioning/alert-rules`` (POST to create, PUT by uid)."""
    return [
        json.loads(json.dumps(_build(rule, settings).build(), cls=JSONEncoder))
        for rule in alert_rules(settings, rules)
    ]


# Keys a rule keeps in the file-provisioning format (folder and group move to the group).
_FILE_RULE_KEYS = (
    "uid", "title", "condition", "data", "noDataState", "execErrState", "for",
    "annotations", "labels", "isPaused",
)


def provisioning_file(
    settings: AlertSettings, rules: RuleSet | None = None
) -> dict[str, Any]:
    """The ``alerting/`` provisioning file with the rule group."""
    provisioned = [
        {key: rule[key] for key in _FILE_RULE_KEYS if key in rule} | {"isPaused": False}
        for rule in api_rules(settings, rules)
    ]
    return {
        "apiVersion": 1,
        "groups": [
            {
                "orgId": ORG_ID,
                "name": settings.group,
                "folder": settings.folder_title,
                "interval": f"{settings.evaluation_interval_s}s",
                "rules": provisioned,
            }
        ],
    }
