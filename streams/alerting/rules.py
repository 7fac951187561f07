"""The worker's alert rules: the rule file read into the one alert-rule model.

The model and the file's validation are :mod:`schemas.alert_rules` and
:mod:`schemas.alert_rule_file` (Grafana's rules are made from the same model); here a bad file
becomes the service's :class:`RuleFileError`, a :class:`~streams.exceptions.ConfigError`
that the CLI prints as its one line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from schemas import alert_rule_file
from schemas.alert_rules import RuleSet
from streams.alerting.exceptions import RuleFileError


@contextmanager
def _as_config_error() -> Iterator[None]:
    try:
        yield
    except alert_rule_file.RuleError as exc:
        raise RuleFileError(exc.place, exc.message) from None


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a rule file; raises :class:`RuleFileError` with one clear line."""
    with _as_config_error():
        return alert_rule_file.load_rules(path)


def parse_rules(data: Any, source: str = "<rules>") -> RuleSet:
    """Validate the parsed YAML document of a rule file."""
    with _as_config_error():
        return alert_rule_file.parse_rules(data, source)
