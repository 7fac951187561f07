"""What the detectors say per stream key now: windows closed, the latest verdict per field,
the last windows' verdicts, alerts firing. Read through any :class:`Reader` (the CLI's
StoreReader, the worker's guarded queries), so the same queries serve ``seismo status``, its
``--watch``, the demo's live view and the worker's live page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from streams.report.data import Reader, as_datetime

WINDOWS_SQL = """
SELECT app, model, count() FROM window_metrics FINAL
WHERE window_start >= now64(3) - toIntervalMinute({minutes:UInt32})
GROUP BY app, model
"""
# The latest window's verdict of every (field, method); a field reads as its worst method.
VERDICTS_SQL = """
SELECT app, model, field, argMax(verdict, window_start), argMax(p_value, window_start)
FROM drift FINAL
WHERE window_start >= now64(3) - toIntervalMinute({minutes:UInt32})
GROUP BY app, model, field, method
"""
# An alert fires now when its latest firing/resolved/cancelled transition is a firing;
# pending and refreshed transitions do not change that.
FIRING_SQL = """
SELECT app, model, rule, argMax(annotations['summary'], transition_at)
FROM alerts FINAL
WHERE state IN ('firing', 'resolved', 'cancelled')
GROUP BY fingerprint, app, model, rule
HAVING argMax(state, transition_at) = 'firing'
ORDER BY app, model, rule
"""
# The verdicts of each key's last windows, newest first.
HISTORY_SQL = """
SELECT app, model, window_start, groupArray(field), groupArray(method), groupArray(verdict),
       groupArray(p_value)
FROM drift FINAL
WHERE window_start >= now64(3) - toIntervalMinute({minutes:UInt32})
GROUP BY app, model, window_start
ORDER BY app, model, window_start DESC
LIMIT {windows:UInt32} BY app, model
"""
# Worst first: a field shows the most alarming verdict any of its methods gave.
_RANK = {"drift": 0, "insufficient_data": 1, "no_drift": 2}


@dataclass(frozen=True)
class WindowVerdict:
    """One closed window of a key: when, and the tests that did not say no_drift."""

    start: datetime
    drifted: tuple[str, ...]  # "prompt mmd p=3e-06"
    insufficient: tuple[str, ...]
    tests: int

    @property
    def verdict(self) -> str:
        return ("drift" if self.drifted else "insufficient_data" if self.insufficient
                else "no_drift")


@dataclass
class KeyView:
    """One stream key (app, model): windows closed, verdict and p per field, alerts firing."""

    app: str
    model: str
    windows: int = 0
    verdicts: dict[str, tuple[str, float]] = field(default_factory=dict)
    firing: dict[str, str] = field(default_factory=dict)  # rule -> summary
    history: list[WindowVerdict] = field(default_factory=list)  # oldest first

    @property
    def drifted(self) -> list[str]:
        return sorted(f for f, (verdict, _) in self.verdicts.items() if verdict == "drift")

    def verdict_line(self) -> str:
        return verdict_line(self.verdicts)


def verdict_line(verdicts: dict[str, tuple[str, float]]) -> str:
    """``prompt DRIFT p=3e-06 · 10 ok``: what is not fine by name, the rest counted."""
    words = {"drift": "DRIFT", "insufficient_data": "too few events"}
    parts = [f"{name} {words.get(verdict, verdict)}" + (f" p={p:.2g}" if verdict == "drift" else "")
             for name, (verdict, p) in sorted(verdicts.items(),
                                              key=lambda kv: (_RANK.get(kv[1][0], 3), kv[0]))
             if verdict != "no_drift"]
    fine = sum(verdict == "no_drift" for verdict, _ in verdicts.values())
    if fine:
        parts.append(f"{fine} ok")
    return " · ".join(parts) or "—"


def key_views(reader: Reader, minutes: int, windows: int = 0
              ) -> dict[tuple[str, str], KeyView]:
    """Every stream key with a closed window, a verdict or a firing alert in the period."""
    views: dict[tuple[str, str], KeyView] = {}

    def view(app: str, model: str) -> KeyView:
        return views.setdefault((app, model), KeyView(app, model))

    params = {"minutes": minutes}
    for app, model, count in _rows(reader, WINDOWS_SQL, params):
        view(app, model).windows = int(count)
    for app, model, name, verdict, p in _rows(reader, VERDICTS_SQL, params):
        known = view(app, model).verdicts.get(name)
        p = float("nan") if p is None else float(p)
        if known is None or (_RANK.get(verdict, 3), p) < (_RANK.get(known[0], 3), known[1]):
            view(app, model).verdicts[name] = (verdict, p)
    for app, model, rule, summary in _rows(reader, FIRING_SQL, {}):
        view(app, model).firing[rule] = summary or rule
    if windows:
        history = _rows(reader, HISTORY_SQL, {**params, "windows": windows})
        for app, model, start, fields, methods, verdicts, ps in reversed(history):
            tests = [(f, m, v, float("nan") if p is None else float(p))
                     for f, m, v, p in zip(fields, methods, verdicts, ps, strict=True)]
            view(app, model).history.append(WindowVerdict(
                as_datetime(start),
                tuple(f"{f} {m} p={p:.2g}" for f, m, v, p in tests if v == "drift"),
                tuple(f"{f} {m}" for f, m, v, _ in tests if v == "insufficient_data"),
                len(tests)))
    return views


def _rows(reader: Reader, sql: str, params: dict[str, Any]) -> list[list[Any]]:
    return reader.query(sql, params)[1]
