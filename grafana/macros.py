"""Grafana's expansion of a ClickHouse query: template variables, then the plugin's macros.

What Grafana does before ClickHouse sees a panel or alert query, so the queries can be run
and checked without Grafana:

1. The frontend replaces template variables (``$app``, ``${app}``) through the plugin's
   formatter: a multi-value (list) becomes ``'a','b'``, a single value is inserted as it is
   (no quotes, no escaping). Alert rules run in the backend and get no variables.
2. The backend (sqlds) expands the plugin's macros, all in UTC seconds unless ``_ms``:

   ===========================  =========================================================
   ``$__timeFilter(c)``         ``c >= toDateTime(<from>) AND c <= toDateTime(<to>)``
   ``$__timeFilter_ms(c)``      the same with ``fromUnixTimestamp64Milli(<ms>)``
   ``$__dateFilter(c)``         ``c >= toDate('<from>') AND c <= toDate('<to>')``
   ``$__dateTimeFilter(d, t)``  both, parenthesised (alias ``$__dt``)
   ``$__fromTime``              ``toDateTime(<from>)`` (``$__toTime`` likewise; ``_ms``)
   ``$__timeInterval(c)``       ``toStartOfInterval(toDateTime(c), INTERVAL <s> second)``
   ``$__timeInterval_ms(c)``    the same in milliseconds on ``toDateTime64(c, 3)``
   ``$__interval_s``            the panel interval in whole seconds, at least 1
   ===========================  =========================================================

An unknown ``$__`` macro is an error here (Grafana would send it on and ClickHouse would fail).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

_MACRO = re.compile(r"\$__(\w+)")
# Grafana's templateSrv syntax: ``${name}`` or ``$name`` (word characters, greedy).
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


@dataclass(frozen=True)
class _Range:
    time_from: datetime
    time_to: datetime
    interval_s: float


def _seconds(t: datetime) -> int:
    return math.floor(t.timestamp())


def _millis(t: datetime) -> int:
    return math.floor(t.timestamp() * 1000)


def _date_time(t: datetime) -> str:
    return f"toDateTime({_seconds(t)})"


def _date_time64(t: datetime) -> str:
    return f"fromUnixTimestamp64Milli({_millis(t)})"


def _date(t: datetime) -> str:
    return f"toDate('{t.astimezone(UTC):%Y-%m-%d}')"


def _between(column: str, low: str, high: str) -> str:
    return f"{column} >= {low} AND {column} <= {high}"


def _interval_seconds(r: _Range) -> int:
    return int(max(r.interval_s, 1.0))


def _interval_millis(r: _Range) -> int:
    return int(max(r.interval_s * 1000.0, 1.0))


# name -> (number of arguments, expansion)
_MACROS: dict[str, tuple[int, Callable[[_Range, list[str]], str]]] = {
    "fromTime": (0, lambda r, a: _date_time(r.time_from)),
    "toTime": (0, lambda r, a: _date_time(r.time_to)),
    "fromTime_ms": (0, lambda r, a: _date_time64(r.time_from)),
    "toTime_ms": (0, lambda r, a: _date_time64(r.time_to)),
    "timeFilter": (
        1,
        lambda r, a: _between(a[0], _date_time(r.time_from), _date_time(r.time_to)),
    ),
    "timeFilter_ms": (
        1,
        lambda r, a: _between(a[0], _date_time64(r.time_from), _date_time64(r.time_to)),
    ),
    "dateFilter": (1, lambda r, a: _between(a[0], _date(r.time_from), _date(r.time_to))),
    "dateTimeFilter": (
        2,
        lambda r, a: f"({_between(a[0], _date(r.time_from), _date(r.time_to))}) AND "
        f"({_between(a[1], _date_time(r.time_from), _date_time(r.time_to))})",
    ),
    "timeInterval": (
        1,
        lambda r, a: f"toStartOfInterval(toDateTime({a[0]}), "
        f"INTERVAL {_interval_seconds(r)} second)",
    ),
    "timeInterval_ms": (
        1,
        lambda r, a: f"toStartOfInterval(toDateTime64({a[0]}, 3), "
        f"INTERVAL {_interval_millis(r)} millisecond)",
    ),
    "interval_s": (0, lambda r, a: str(_interval_seconds(r))),
}
_MACROS["dt"] = _MACROS["dateTimeFilter"]

Variables = Mapping[str, str | Sequence[str]]


def format_variable(value: str | Sequence[str]) -> str:
    """The ClickHouse plugin's formatter: lists as ``'a','b'``, single values verbatim."""
    if isinstance(value, str):
        return value
    return "'" + "','".join(value) + "'"


def replace_variables(sql: str, variables: Variables) -> str:
    """Step 1: template variables; names not in ``variables`` stay as written (as in Grafana)."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in variables:
            return format_variable(variables[name])
        return match.group(0)

    return _VARIABLE.sub(substitute, sql)


def _arguments(sql: str, open_at: int) -> tuple[list[str], int]:
    """Arguments of a macro call whose ``(`` is at ``open_at``, and the index after ``)``."""
    depth = 0
    for i in range(open_at, len(sql)):
        if sql[i] == "(":
            depth += 1
        elif sql[i] == ")":
            depth -= 1
            if depth == 0:
                inner = sql[open_at + 1 : i]
                return [part.strip() for part in _split_top_level(inner)], i + 1
    raise ValueError(f"unbalanced parentheses after macro at offset {open_at}")


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _expand_macros(sql: str, time_range: _Range) -> str:
    """Step 2: the plugin's macros (no template variables)."""
    out: list[str] = []
    position = 0
    while (match := _MACRO.search(sql, position)) is not None:
        name = match.group(1)
        if name not in _MACROS:
            raise ValueError(f"unknown ClickHouse macro $__{name}")
        arity, expand = _MACROS[name]
        end = match.end()
        args: list[str] = []
        if arity:
            if end >= len(sql) or sql[end] != "(":
                raise ValueError(f"$__{name} needs {arity} argument(s) in parentheses")
            args, end = _arguments(sql, end)
            if len(args) != arity or not all(args):
                raise ValueError(f"$__{name} takes {arity} argument(s), got {args!r}")
        out.append(sql[position : match.start()])
        out.append(expand(time_range, args))
        position = end
    out.append(sql[position:])
    return "".join(out)


def expand_macros(
    sql: str,
    time_from: datetime,
    time_to: datetime,
    interval_s: float,
    variables: Variables | None = None,
) -> str:
    """The SQL ClickHouse receives from Grafana for one query.

    Parameters
    ----------
    sql : str
        The query as saved in the dashboard or rule.
    time_from, time_to : datetime
        The dashboard's (or rule's relative) time range; timezone-aware.
    interval_s : float
        The panel's interval in seconds (``$__interval_s``, at least 1).
    variables : mapping, optional
        Template variable values: a list for multi-value variables, a string otherwise.

    Raises
    ------
    ValueError
        For a naive datetime, an inverted range, an unknown macro or a wrong argument count.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> expand_macros(
    ...     "SELECT 1 FROM events WHERE $__timeFilter(timestamp) AND app IN (${app})",
    ...     datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, 1, tzinfo=UTC), 60,
    ...     {"app": ["support-bot"]},
    ... )
    "SELECT 1 FROM events WHERE timestamp >= toDateTime(1735689600) AND timestamp <= \
toDateTime(1735693200) AND app IN ('support-bot')"
    """
    for name, value in (("time_from", time_from), ("time_to", time_to)):
        if value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    if time_to < time_from:
        raise ValueError("time_to must not be before time_from")
    if not interval_s > 0:
        raise ValueError(f"interval_s must be positive, got {interval_s!r}")
    with_variables = replace_variables(sql, variables or {})
    return _expand_macros(with_variables, _Range(time_from, time_to, float(interval_s)))
