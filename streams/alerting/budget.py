"""The false-page budget: each sequential rule's per-window level, derived from pages per week.

A deployment runs every sequential rule on every stream key in every window. If each of
those ``rules × keys`` detectors raises a false alarm at most ``level`` times per window
(an e-detector with threshold ``1 / level``, :mod:`detectors.change.sequential`), the
expected false pages per week are at most ``rules × keys × windows_per_week × level``;
setting that to the budget gives::

    level = false_pages_per_week / (rules × keys × windows_per_week)

``windows_per_week = 604800 / window_seconds``, ``keys`` is the number of stream keys seen so
far (at least 1): the level is re-derived whenever a key appears, so a tenth key tightens every
detector instead of adding pages. Rules that carry the label ``false_pages_per_week`` share
that budget with the other rules of their ``service`` label; every other sequential rule
shares the deployment's. Consecutive and metric rules are not budgeted (their false-page rate
is whatever their threshold gives); :func:`derive` lists them with no level.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from schemas.alert_rules import BUDGET_LABEL, Rule, RuleSet

SECONDS_PER_WEEK = 7 * 24 * 3600
DEPLOYMENT = "deployment"


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """One budget group: its rules, the tests they run, their level and expected pages."""

    group: str
    false_pages_per_week: float
    rules: tuple[str, ...]
    keys: int
    windows_per_week: float
    level: float  # per rule, per key, per window; nan for unbudgeted rules

    @property
    def tests(self) -> int:
        return len(self.rules) * self.keys

    @property
    def expected_false_pages_per_week(self) -> float:
        """At most this many under no change (the e-detector's bound), nan if unbudgeted."""
        return self.level * self.tests * self.windows_per_week


def group_of(rule: Rule) -> str:
    if BUDGET_LABEL in rule.labels:
        return "service " + rule.labels.get("service", rule.name)
    return DEPLOYMENT


def derive(
    rules: Iterable[Rule], keys: int, window_seconds: float, false_pages_per_week: float
) -> list[BudgetLine]:
    """The budget table: one line per group of sequential rules, one for the rest."""
    keys = max(int(keys), 1)
    windows = SECONDS_PER_WEEK / window_seconds
    groups: dict[str, list[Rule]] = {}
    unbudgeted: list[str] = []
    for rule in rules:
        if rule.sequential:
            groups.setdefault(group_of(rule), []).append(rule)
        else:
            unbudgeted.append(rule.name)
    lines = []
    for group, members in groups.items():
        budget = false_pages_per_week
        if group != DEPLOYMENT:
            budget = min(float(r.labels[BUDGET_LABEL]) for r in members)
        level = budget / (len(members) * keys * windows)
        lines.append(BudgetLine(group, budget, tuple(r.name for r in members), keys, windows,
                                min(level, 0.5)))
    if unbudgeted:
        lines.append(BudgetLine("not budgeted", math.nan, tuple(unbudgeted), keys, windows,
                                math.nan))
    return lines


class Budget:
    """The levels of a rule set as the stream keys it has seen grow (what the engine asks)."""

    def __init__(self, rules: RuleSet, window_seconds: float, false_pages_per_week: float):
        if not window_seconds > 0 or not false_pages_per_week > 0:
            raise ValueError("window_seconds and false_pages_per_week must be positive")
        self.rules = rules
        self.window_seconds = float(window_seconds)
        self.false_pages_per_week = float(false_pages_per_week)
        self._keys: set[str] = set()
        self._levels: dict[str, float] = {}

    @property
    def keys(self) -> int:
        return len(self._keys)

    def see(self, keys: Iterable[str]) -> None:
        """Count stream keys (labels); the levels are re-derived when one is new."""
        before = len(self._keys)
        self._keys.update(keys)
        if len(self._keys) != before or not self._levels:
            self._levels = {
                name: line.level for line in self.table() for name in line.rules
            }

    def level(self, rule: str) -> float:
        if not self._levels:
            self.see(())
        return self._levels[rule]

    def table(self) -> list[BudgetLine]:
        return derive(self.rules, self.keys, self.window_seconds, self.false_pages_per_week)
