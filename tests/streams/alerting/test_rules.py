"""Rule files: the shipped example loads; a bad file is one line naming the rule and the key."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from streams.alerting import (
    DetectorSelector,
    RuleFileError,
    load_rules,
    parse_rules,
)
from streams.alerting.selectors import observe
from streams.exceptions import ConfigError
from tests.streams.alerting.factories import DRIFT_RULE, ERROR_RULE, window

EXAMPLE = Path(__file__).resolve().parents[3] / "streams" / "alerting" / "default_rules.yaml"


def test_example_rule_file_loads_with_documented_defaults() -> None:
    rules = load_rules(EXAMPLE)
    drift = rules["PromptEmbeddingDrift"]
    assert drift.signal == DetectorSelector(field="prompt", method="mmd")
    assert (drift.for_windows, drift.resolve_after_windows) == (2, 2)
    assert drift.labels == {"team": "ml-platform", "service": "llm-gateway"}
    assert drift.sequential  # the defaults' evidence: within the false-page budget
    errors = rules["HighErrorRate"]
    assert errors.signal == DetectorSelector(field="error_rate", method="error_rate_fisher")
    assert errors.sequential and errors.resolve_after_windows == 3
    # Every paging default is budgeted but the SLO (an objective the user set, no p-value).
    assert [r.name for r in rules if not r.sequential] == ["SlowResponses"]
    assert "runbook_url" in errors.annotations and "dashboard_url" in errors.annotations


def test_drift_rules_wait_two_windows_by_default() -> None:
    rule = parse_rules({"rules": [DRIFT_RULE]})["PromptDrift"]
    assert rule.for_windows == 2
    assert rule.resolve_after_windows == 2


def test_annotations_render_placeholders_with_format_specs() -> None:
    rule = parse_rules({"rules": [ERROR_RULE]})["HighErrorRate"]
    observation = observe(rule, window(0, error_rate=0.125))
    assert observation is not None and observation.condition
    rendered = rule.render_annotations(
        {"app": "chat", "model": "gpt-4o", "value": observation.value, **observation.context}
    )
    assert rendered["summary"] == "chat/gpt-4o: 12% errors"
    assert rendered["dashboard_url"] == "http://grafana.example.com/d/seismo?var-app=chat"


def test_match_restricts_a_rule_to_some_stream_keys() -> None:
    rule = parse_rules({"rules": [{**ERROR_RULE, "match": {"app": ["chat", "search"]}}]})[
        "HighErrorRate"
    ]
    assert observe(rule, window(0, error_rate=0.5, app="chat")) is not None
    assert observe(rule, window(0, error_rate=0.5, app="billing")) is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"signal": {"metric": "error_rate", "op": "=>", "threshold": 0.05}},
            "rule 'HighErrorRate': signal.op: must be one of",
        ),
        (
            {"signal": {"metric": "error_rate", "op": ">", "threshold": "high"}},
            "rule 'HighErrorRate': signal.threshold: must be a number",
        ),
        ({"severity": "page-me"}, "rule 'HighErrorRate': severity: must be one of"),
        ({"for_windows": 0}, "rule 'HighErrorRate': for_windows: must be a whole number"),
        ({"resolve_after_windows": 1.5}, "rule 'HighErrorRate': resolve_after_windows: must be"),
        ({"for_window": 2}, "rule 'HighErrorRate': for_window: unknown key"),
        ({"labels": {"severity": "low"}}, "rule 'HighErrorRate': labels.severity: is set by"),
        ({"labels": {"team": 7}}, "rule 'HighErrorRate': labels.team: must be a string"),
        (
            {"annotations": {"summary": "{app} at {pod}"}},
            "rule 'HighErrorRate': annotations.summary: unknown placeholder {pod}",
        ),
        (
            {"annotations": {"summary": "{value:%Q}"}},
            "rule 'HighErrorRate': annotations.summary: is not a valid template",
        ),
        (
            {"signal": {"field": "prompt", "method": "mmd", "condition": "above"}},
            "rule 'HighErrorRate': signal.condition: must be one of drifted",
        ),
        ({"signal": {"field": "prompt"}}, "rule 'HighErrorRate': signal.method: is required"),
        ({"match": {"region": "eu"}}, "rule 'HighErrorRate': match.region: unknown key"),
    ],
)
def test_a_bad_rule_is_one_line_naming_rule_and_key(change: dict, expected: str) -> None:
    with pytest.raises(RuleFileError) as error:
        parse_rules({"rules": [{**ERROR_RULE, **change}]}, source="alerts.yaml")
    message = str(error.value)
    assert message.startswith("alerts.yaml: ")
    assert expected in message
    assert "\n" not in message


def test_metric_placeholders_are_not_offered_to_detector_rules() -> None:
    with pytest.raises(RuleFileError, match=r"annotations.summary: unknown placeholder \{metric\}"):
        parse_rules({"rules": [{**DRIFT_RULE, "annotations": {"summary": "{metric}"}}]})


def test_duplicate_names_and_unnamed_rules_are_reported() -> None:
    with pytest.raises(RuleFileError, match=r"rule 'HighErrorRate': name: duplicate rule name"):
        parse_rules({"rules": [ERROR_RULE, ERROR_RULE]})
    nameless = {k: v for k, v in ERROR_RULE.items() if k != "name"}
    with pytest.raises(RuleFileError, match=r"rule #2: name: is required"):
        parse_rules({"rules": [DRIFT_RULE, nameless]})


def test_file_level_problems_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    # A ConfigError: the CLI prints it as one line, without a traceback.
    with pytest.raises(ConfigError, match=r"nope.yaml: file does not exist"):
        load_rules(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [\n")
    with pytest.raises(RuleFileError, match=r"broken.yaml: not valid YAML"):
        load_rules(broken)
    empty = tmp_path / "empty.yaml"
    empty.write_text("rules: []\n")
    with pytest.raises(RuleFileError, match=r"empty.yaml: rules: must be a non-empty list"):
        load_rules(empty)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("rule: []\n")
    with pytest.raises(RuleFileError, match=r"unknown.yaml: rule: unknown key"):
        load_rules(unknown)


def test_a_metric_that_is_absent_null_or_not_a_number_is_no_evidence() -> None:
    rule = parse_rules(
        {"rules": [{**ERROR_RULE, "signal": {"metric": "errors", "op": ">", "threshold": 3}}]}
    )["HighErrorRate"]
    base = window(0)
    for value in (None, {"timeout": 4}, float("nan")):
        outcome = replace(base, metrics={"errors": value})
        assert observe(rule, outcome) is None
    observed = observe(rule, replace(base, metrics={"errors": 4}))
    assert observed is not None and observed.condition and observed.value == 4.0
