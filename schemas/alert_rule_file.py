"""The YAML rule file: read and validated into the alert-rule model (:mod:`schemas.alert_rules`).

Validated strictly: an unknown key, a wrong type or a template with an unknown placeholder is
one :class:`RuleError` line naming the file, the rule and the key, so a typo never turns into
an alert that silently never fires. ``streams/alerting/default_rules.yaml`` documents the
format.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import yaml

from schemas.alert_rules import (
    BUDGET_LABEL,
    COMPARISONS,
    DEFAULT_FOR_WINDOWS,
    DEFAULT_RESOLVE_AFTER_WINDOWS,
    DETECTOR_CONDITIONS,
    EVIDENCE_MODES,
    MATCH_KEYS,
    RESERVED_LABELS,
    SEQUENTIAL,
    SEVERITIES,
    DetectorSelector,
    MetricSelector,
    Rule,
    RuleSet,
    Selector,
)

_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FILE_KEYS = ("version", "defaults", "rules")
_DEFAULT_KEYS = ("severity", "for_windows", "resolve_after_windows", "labels", "annotations",
                 "evidence")
_RULE_KEYS = ("name", "signal", "match", *_DEFAULT_KEYS)
_DETECTOR_KEYS = ("field", "method", "condition")
_METRIC_KEYS = ("metric", "op", "threshold")
# What every template may use, with sample values to check templates at load time.
COMMON_PLACEHOLDERS: dict[str, Any] = {
    "rule": "rule",
    "severity": "warning",
    "app": "app",
    "model": "model",
    "prompt_version": "v1",
    "value": 0.5,
    "window_start": datetime(2024, 1, 1, tzinfo=UTC),
    "window_end": datetime(2024, 1, 1, 0, 1, tzinfo=UTC),
}


class RuleError(ValueError):
    """A rule file is unusable: ``place`` names the file, the rule and the key."""

    def __init__(self, place: str, message: str) -> None:
        self.place = place
        self.message = message
        super().__init__(f"{place}: {message}")


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a rule file; raises :class:`RuleError` with one clear line."""
    source = str(path)
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise RuleError(source, "file does not exist") from None
    except OSError as exc:
        raise RuleError(source, f"cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError(source, f"not valid YAML: {str(exc).splitlines()[0]}") from None
    return parse_rules(data, source)


def parse_rules(data: Any, source: str = "<rules>") -> RuleSet:
    """Validate the parsed YAML document of a rule file."""
    top = _Section(source, "")
    document = top.mapping(data, "", _FILE_KEYS)
    if "version" in document and document["version"] != 1:
        top.fail("version", f"must be 1, got {document['version']!r}")
    defaults = top.mapping(document.get("defaults", {}), "defaults", _DEFAULT_KEYS)
    entries = document.get("rules")
    if not isinstance(entries, list) or not entries:
        top.fail("rules", "must be a non-empty list of rules")
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries, start=1):
        rule = _parse_rule(entry, defaults, source, index)
        if rule.name in seen:
            _Section(source, f"rule {rule.name!r}").fail(
                "name", f"duplicate rule name (rule #{seen[rule.name]} has it too)"
            )
        seen[rule.name] = index
        rules.append(rule)
    return RuleSet(tuple(rules), source)


def _parse_rule(entry: Any, defaults: Mapping[str, Any], source: str, index: int) -> Rule:
    where = _Section(source, f"rule #{index}")
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        where = _Section(source, f"rule {entry['name']!r}")
    raw = where.mapping(entry, "", _RULE_KEYS)
    name = where.string(raw.get("name"), "name")
    if not _NAME.match(name):
        where.fail("name", "may contain letters, digits and _ . : - only")
    merged = {**defaults, **raw}
    signal = _parse_signal(where, raw.get("signal"))
    severity = where.string(merged.get("severity"), "severity")
    if severity not in SEVERITIES:
        where.fail("severity", f"must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    labels = {
        **where.string_map(defaults.get("labels", {}), "labels"),
        **where.string_map(raw.get("labels", {}), "labels"),
    }
    for label in labels:
        if label in RESERVED_LABELS:
            where.fail(f"labels.{label}", "is set by Seismo and cannot be overridden")
    annotations = {
        **where.string_map(defaults.get("annotations", {}), "annotations"),
        **where.string_map(raw.get("annotations", {}), "annotations"),
    }
    rule = Rule(
        name=name,
        signal=signal,
        severity=severity,
        for_windows=where.count(merged.get("for_windows", DEFAULT_FOR_WINDOWS), "for_windows"),
        resolve_after_windows=where.count(
            merged.get("resolve_after_windows", DEFAULT_RESOLVE_AFTER_WINDOWS),
            "resolve_after_windows",
        ),
        labels=labels,
        annotations=annotations,
        match=_parse_match(where, raw.get("match", {})),
        evidence=_parse_evidence(where, raw, defaults, signal),
    )
    if BUDGET_LABEL in labels:
        budget = labels[BUDGET_LABEL]
        try:
            ok = float(budget) > 0 and math.isfinite(float(budget))
        except ValueError:
            ok = False
        if not ok:
            where.fail(f"labels.{BUDGET_LABEL}", f"must be a positive number, got {budget!r}")
    _check_templates(where, rule)
    return rule


def _parse_signal(where: _Section, raw: Any) -> Selector:
    if raw is None:
        where.fail("signal", "is required (field + method, or metric + op + threshold)")
    if isinstance(raw, dict) and "metric" in raw:
        spec = where.mapping(raw, "signal", _METRIC_KEYS)
        op = where.string(spec.get("op"), "signal.op")
        if op not in COMPARISONS:
            where.fail("signal.op", f"must be one of {' '.join(COMPARISONS)}, got {op!r}")
        return MetricSelector(
            metric=where.string(spec.get("metric"), "signal.metric"),
            op=op,
            threshold=where.number(spec.get("threshold"), "signal.threshold"),
        )
    spec = where.mapping(raw, "signal", _DETECTOR_KEYS)
    condition = where.string(spec.get("condition", "drifted"), "signal.condition")
    if condition not in DETECTOR_CONDITIONS:
        where.fail("signal.condition", f"must be one of {', '.join(DETECTOR_CONDITIONS)}")
    return DetectorSelector(
        field=where.string(spec.get("field"), "signal.field"),
        method=where.string(spec.get("method"), "signal.method"),
        condition=condition,
    )


def _parse_evidence(
    where: _Section, raw: Mapping[str, Any], defaults: Mapping[str, Any], signal: Selector
) -> str:
    """A rule's own ``evidence``, else the defaults' for a detector rule: a metric rule has no
    p-value to accumulate, so it stays consecutive unless it asks otherwise (an error)."""
    own = raw.get("evidence")
    if own is None and isinstance(signal, DetectorSelector):
        own = defaults.get("evidence")
    if own is None:
        return EVIDENCE_MODES[0]
    mode = where.string(own, "evidence")
    if mode not in EVIDENCE_MODES:
        where.fail("evidence", f"must be one of {', '.join(EVIDENCE_MODES)}, got {mode!r}")
    if mode == SEQUENTIAL and not isinstance(signal, DetectorSelector):
        where.fail("evidence", "sequential needs a detector signal (field + method)")
    return mode


def _parse_match(where: _Section, raw: Any) -> dict[str, tuple[str, ...]]:
    spec = where.mapping(raw, "match", MATCH_KEYS)
    match: dict[str, tuple[str, ...]] = {}
    for key, value in spec.items():
        values = value if isinstance(value, list) else [value]
        if not values:
            where.fail(f"match.{key}", "must name at least one value")
        match[key] = tuple(where.string(v, f"match.{key}") for v in values)
    return match


def _check_templates(where: _Section, rule: Rule) -> None:
    """Render every annotation once with sample values, so a bad template fails at load."""
    context = {**COMMON_PLACEHOLDERS, **rule.signal.placeholders}
    for key, template in rule.templates().items():
        try:
            template.format_map(context)
        except KeyError as exc:
            where.fail(
                f"annotations.{key}",
                f"unknown placeholder {{{exc.args[0]}}}; use one of "
                + ", ".join("{" + name + "}" for name in context),
            )
        except (ValueError, IndexError, AttributeError, TypeError) as exc:
            where.fail(f"annotations.{key}", f"is not a valid template: {exc}")


@dataclass(frozen=True, slots=True)
class _Section:
    """Reads one part of the file and raises errors that say where it is."""

    source: str
    where: str

    def fail(self, key: str, message: str) -> NoReturn:
        place = ": ".join(p for p in (self.source, self.where, key) if p)
        raise RuleError(place, message)

    def mapping(self, value: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(key, f"must be a mapping, got {_kind(value)}")
        for name in value:
            if name not in allowed:
                self.fail(
                    f"{key}.{name}" if key else str(name),
                    f"unknown key; expected one of {', '.join(allowed)}",
                )
        return value

    def string(self, value: Any, key: str) -> str:
        if value is None:
            self.fail(key, "is required")
        if not isinstance(value, str) or not value:
            self.fail(key, f"must be a non-empty string, got {_kind(value)}")
        return value

    def number(self, value: Any, key: str) -> float:
        if value is None:
            self.fail(key, "is required")
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"must be a number, got {_kind(value)}")
        if not math.isfinite(value):
            self.fail(key, "must be finite")
        return float(value)

    def count(self, value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail(key, f"must be a whole number of windows >= 1, got {value!r}")
        return value

    def string_map(self, value: Any, key: str) -> dict[str, str]:
        if not isinstance(value, dict):
            self.fail(key, f"must be a mapping of names to strings, got {_kind(value)}")
        for name, item in value.items():
            if not isinstance(name, str) or not _LABEL_NAME.match(name):
                self.fail(f"{key}.{name}", "names must match [A-Za-z_][A-Za-z0-9_]*")
            if not isinstance(item, str):
                self.fail(f"{key}.{name}", f"must be a string, got {_kind(item)}")
        return dict(value)


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"[:80]
