"""The alert-rule model: what an alert watches, when it fires, and what on-call reads.

One model for both homes an alert can run in: Seismo's worker evaluates a :class:`RuleSet`
on every closed window (:mod:`streams.alerting`), and :mod:`grafana.alert_rules` turns the
same rules into Grafana-managed rules over the stored windows. The YAML rule file that holds
them is read by :mod:`schemas.alert_rule_file`; ``streams/alerting/default_rules.yaml``
documents its format.

Pure data: nothing here reads a window; the worker's evaluation of a selector is
:func:`streams.alerting.selectors.observe`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

SEVERITIES = ("critical", "error", "warning", "info")  # PagerDuty's set, which the others accept
# Labels Seismo sets itself; a rule's labels may not override them.
RESERVED_LABELS = ("alertname", "severity", "app", "model", "prompt_version")
MATCH_KEYS = ("app", "model", "prompt_version")
# Drift needs two windows in a row before it pages (the drift issue's default); the same
# holds on the way back, so one quiet window does not resolve and re-fire an alert.
DEFAULT_FOR_WINDOWS = 2
DEFAULT_RESOLVE_AFTER_WINDOWS = 2
DEFAULT_SUMMARY = "{rule}: {app}/{model} value {value:.4g}"

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
DETECTOR_CONDITIONS = ("drifted",)
# How a detector rule weighs its windows: ``consecutive`` fires after for_windows windows in a
# row with the test's own decision; ``sequential`` accumulates the windows' p-values in an
# e-detector whose level comes from the false-page budget (streams.alerting.budget).
CONSECUTIVE = "consecutive"
SEQUENTIAL = "sequential"
EVIDENCE_MODES = (CONSECUTIVE, SEQUENTIAL)
# The rule label that gives the rules of its ``service`` label their own false-page budget.
BUDGET_LABEL = "false_pages_per_week"


@dataclass(frozen=True, slots=True)
class DetectorSelector:
    """A detector's decision on one field, e.g. ``field: prompt, method: mmd``.

    The reported value is the test statistic; ``{p_value}``, ``{statistic}``, ``{threshold}``
    and ``{alpha}`` are available to annotations as well.
    """

    field: str
    method: str
    condition: str = "drifted"

    placeholders: ClassVar[dict[str, Any]] = {
        "field": "prompt",
        "method": "mmd",
        "statistic": 0.5,
        "p_value": 0.01,
        "threshold": 0.1,
        "alpha": 0.01,
    }

    def describe(self) -> str:
        return f"{self.method} on {self.field} {self.condition}"


@dataclass(frozen=True, slots=True)
class MetricSelector:
    """A window metric (a ``window_metrics`` column) compared with a threshold, e.g.
    ``error_rate > 0.05``; the reported value is the metric."""

    metric: str
    op: str
    threshold: float

    placeholders: ClassVar[dict[str, Any]] = {"metric": "error_rate", "op": ">", "threshold": 0.1}

    def describe(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"


Selector = DetectorSelector | MetricSelector


@dataclass(frozen=True, slots=True)
class Rule:
    """One alert rule.

    Attributes
    ----------
    name : str
        Unique in its file; the ``alertname`` label.
    signal : DetectorSelector | MetricSelector
        What the rule watches.
    severity : str
        One of :data:`SEVERITIES`.
    for_windows : int
        Consecutive windows with the condition true before the alert fires.
    resolve_after_windows : int
        Consecutive windows with the condition false before a firing alert resolves.
    labels, annotations : Mapping[str, str]
        Extra labels (team, service ...) and annotation templates (summary, runbook_url ...).
    match : Mapping[str, tuple[str, ...]]
        Optional restriction to some apps, models or prompt versions; empty means all.
    evidence : str
        ``"consecutive"`` or, for detector rules, ``"sequential"`` (see :data:`EVIDENCE_MODES`).
    """

    name: str
    signal: Selector
    severity: str
    for_windows: int = DEFAULT_FOR_WINDOWS
    resolve_after_windows: int = DEFAULT_RESOLVE_AFTER_WINDOWS
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    match: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    evidence: str = CONSECUTIVE

    @property
    def sequential(self) -> bool:
        return self.evidence == SEQUENTIAL and isinstance(self.signal, DetectorSelector)

    def applies_to(self, app: str, model: str, prompt_version: str) -> bool:
        key = {"app": app, "model": model, "prompt_version": prompt_version}
        return all(key[name] in values for name, values in self.match.items())

    def alert_labels(self, app: str, model: str, prompt_version: str) -> dict[str, str]:
        labels = {"alertname": self.name, "severity": self.severity, "app": app, "model": model}
        if prompt_version:
            labels["prompt_version"] = prompt_version
        own = {k: v for k, v in self.labels.items() if k != BUDGET_LABEL}  # config, not routing
        return {**own, **labels}

    def templates(self) -> dict[str, str]:
        """The annotation templates, the default summary included."""
        return {"summary": DEFAULT_SUMMARY, **self.annotations}

    def render_annotations(self, context: Mapping[str, Any]) -> dict[str, str]:
        return {key: template.format_map(context) for key, template in self.templates().items()}


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules of one file, in file order."""

    rules: tuple[Rule, ...]
    source: str = "<rules>"

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __getitem__(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)
