"""The SQL ``POST /api/query`` serves: one SELECT over Seismo's tables, bounded by ClickHouse.

A query is parsed by ClickHouse itself, never matched as a string, in three steps:

1. ``formatQuerySingleLine({sql:String})``: the text travels as a *value*, so a second
   statement cannot run (the embedded engine runs every statement of a text it is given,
   ``EXPLAIN AST`` of one included) and comes back as "Multi-statements are not allowed".
   What runs from here on is ClickHouse's own rendering of that one statement.
2. ``EXPLAIN AST`` of that rendering, and :func:`check_select` on the tree.
3. The rendering runs with ClickHouse's limits (:class:`QueryLimits`) as its settings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from schemas.tables import DEPLOYMENT_SECRETS
from streams.settings import Settings
from streams.store.client import ClickHouseStore

# The statement kinds a SELECT's tree is made of; any other "...Query" node is a refusal.
SELECT_NODES = frozenset({"SelectWithUnionQuery", "SelectQuery", "SelectIntersectExceptQuery",
                          "TablesInSelectQuery"})
# Functions that reach outside the tables (files, dictionaries, other tables, the host, the
# server's settings) or hold the store's one thread: refused wherever they appear. readonly
# and the limits below bound the rest. Lowercase; every dict* function is refused too.
REFUSED_FUNCTIONS = frozenset({
    "file", "joinget", "joingetornull", "hascolumnintable", "getsetting", "getsettingordefault",
    "getserversetting", "getmergetreesetting", "getmacro", "hostname", "fqdn", "displayname",
    "getclienthttpheader", "showcertificate", "getoskernelversion", "filesystemavailable",
    "filesystemcapacity", "filesystemunreserved", "catboostevaluate", "modelevaluate",
    "addresstoline", "addresstolinewithinlines", "addresstosymbol", "demangle", "trap",
    "sleep", "sleepeachrow", "currentuser", "user", "currentprofiles", "currentroles",
    "enabledroles", "defaultroles", "serveruuid", "zookeepersessionuptime", "getserverport",
    "tcpport", "uptime",
})
# `x IN name` reads the table `name`: its right-hand identifier is a table reference.
IN_FUNCTIONS = frozenset({"in", "notin", "globalin", "globalnotin", "nullin", "notnullin",
                          "globalnullin", "globalnotnullin"})
# Seismo's own tables that hold secrets: the salt would make every hashed value reversible.
NOT_SERVED = frozenset({DEPLOYMENT_SECRETS})
_CREATED = re.compile(
    r"CREATE\s+(?:MATERIALIZED\s+)?(?:TABLE|VIEW)\s+IF\s+NOT\s+EXISTS\s+(\w+)", re.IGNORECASE
)


class QueryRefused(ValueError):
    """The query is not served, or ClickHouse stopped it; the message is one line."""


def seismo_tables() -> frozenset[str]:
    """The tables and views Seismo's migrations (schemas/clickhouse) create, less the private
    ones (NOT_SERVED)."""
    folder = resources.files("schemas") / "clickhouse"
    names = set()
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            names.update(_CREATED.findall(entry.read_text()))
    return frozenset(names - NOT_SERVED)


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """ClickHouse's own limits for one API query (a refusal, never a truncated answer)."""

    timeout_seconds: float
    max_result_rows: int
    max_result_bytes: int
    max_rows_to_read: int
    max_bytes_to_read: int
    max_memory_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        return cls(settings.query_timeout_seconds, settings.query_max_result_rows,
                   settings.query_max_result_bytes, settings.query_max_rows_to_read,
                   settings.query_max_bytes_to_read, settings.query_max_memory_bytes)

    def clickhouse_settings(self) -> dict[str, Any]:
        return {
            # 2, not 1: a query under readonly=1 may not carry even these settings. A query's
            # own SETTINGS clause is refused by check_select, so it cannot lift them.
            "readonly": 2,
            "max_execution_time": self.timeout_seconds,
            "timeout_overflow_mode": "throw",
            "max_result_rows": self.max_result_rows,
            "max_result_bytes": self.max_result_bytes,
            "result_overflow_mode": "throw",
            "max_rows_to_read": self.max_rows_to_read,
            "max_bytes_to_read": self.max_bytes_to_read,
            "read_overflow_mode": "throw",
            "max_memory_usage": self.max_memory_bytes,
        }


@dataclass(slots=True)
class _Node:
    kind: str
    text: str
    children: list[_Node] = field(default_factory=list)

    def walk(self) -> Iterable[_Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def name(self) -> str:
        """The identifier or function name the node carries (before any "(alias …)")."""
        return self.text.split(" ", 1)[0] if self.text else ""


def check_select(ast: Sequence[str], tables: frozenset[str], database: str) -> None:
    """Refuse (QueryRefused) anything but one SELECT over ``tables`` in ``database``.

    ``ast`` is ``EXPLAIN AST``'s output, one node a line, indented one space a level.
    """
    roots = _tree(ast)
    if len(roots) != 1 or roots[0].kind != "SelectWithUnionQuery":
        kind = roots[0].kind if roots else "nothing"
        raise QueryRefused(f"only a SELECT is served, not {_statement(kind)}")
    root = roots[0]
    for clause in root.children[1:]:
        # After the SELECTs come INTO OUTFILE (a literal), FORMAT (an identifier: the client
        # adds Native itself) and SETTINGS.
        if clause.kind == "Literal":
            raise QueryRefused("INTO OUTFILE is not served")
        if clause.kind == "Identifier" and clause.name != "Native":
            raise QueryRefused("FORMAT is not served: the API answers JSON")
    with_names = any(node.kind == "WithElement" for node in root.walk())
    for node in root.walk():
        if node.kind.endswith("Query") and node.kind not in SELECT_NODES:
            raise QueryRefused(f"only a SELECT is served, not {_statement(node.kind)}")
        if node.kind == "Set":
            raise QueryRefused("SETTINGS is not served: the API sets the query's limits")
        if node.kind == "TableExpression":
            for child in node.children:
                if child.kind == "Function":
                    raise QueryRefused(f"table function {child.name}() is not served; "
                                       f"read Seismo's tables ({', '.join(sorted(tables))})")
        if node.kind == "TableIdentifier":
            _check_table(node.name, tables, database, with_names)
        if node.kind == "Function":
            _check_function(node, tables, database, with_names)


def _check_function(node: _Node, tables: frozenset[str], database: str, with_names: bool) -> None:
    name = node.name.lower()
    if name in REFUSED_FUNCTIONS or name.startswith("dict"):
        raise QueryRefused(f"function {node.name}() is not served")
    if name in IN_FUNCTIONS and node.children and len(node.children[0].children) == 2:
        right = node.children[0].children[1]
        if right.kind == "Identifier":
            _check_table(right.name, tables, database, with_names)


def _check_table(name: str, tables: frozenset[str], database: str, with_names: bool) -> None:
    qualifier, dot, table = name.rpartition(".")
    if dot and qualifier != database:
        raise QueryRefused(f"table {name} is not served: only the {database} database is")
    if table in tables:
        return
    if table in NOT_SERVED:  # even where a WITH name could shadow it: refusing that costs none
        raise QueryRefused(f"table {name} is not served")
    # An unqualified name resolves in the session's database (Seismo's) or to a WITH name; the
    # tree does not say which WITH names there are, so with any present it is left to
    # ClickHouse, which refuses a name that is neither.
    if dot or not with_names:
        raise QueryRefused(f"table {name} is not served; Seismo's are {', '.join(sorted(tables))}")


def _tree(lines: Sequence[str]) -> list[_Node]:
    roots: list[_Node] = []
    stack: list[tuple[int, _Node]] = []
    for line in lines:
        depth = len(line) - len(line.lstrip(" "))
        kind, _, text = line.strip().partition(" ")
        node = _Node(kind, re.sub(r"\s*\(children \d+\)$", "", text))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((depth, node))
    return roots


def _statement(kind: str) -> str:
    """``InsertQuery`` → ``INSERT``: the statement a node kind stands for."""
    words = re.findall(r"[A-Z][a-z]*", kind.removesuffix("Query"))
    return " ".join(words).upper() or kind


class ApiQueries:
    """Runs API queries on the store's thread: parse, check, run bounded."""

    def __init__(self, store: ClickHouseStore, limits: QueryLimits,
                 tables: frozenset[str] | None = None) -> None:
        self.store = store
        self.limits = limits
        self.tables = tables if tables is not None else seismo_tables()

    @classmethod
    def from_settings(cls, store: ClickHouseStore, settings: Settings) -> ApiQueries:
        return cls(store, QueryLimits.from_settings(settings))

    def check(self, sql: str, parameters: dict[str, Any] | None = None) -> str:
        """ClickHouse's rendering of ``sql`` once it passed :func:`check_select`."""
        rendered = self._clickhouse("parse", "SELECT formatQuerySingleLine({sql:String})",
                                    {"sql": sql})[0][0]
        ast = self._clickhouse("parse", f"EXPLAIN AST {rendered}", parameters)
        check_select([row[0] for row in ast], self.tables, self.store.database)
        return rendered

    def run(self, sql: str, parameters: dict[str, Any] | None = None) -> tuple[list[str], list]:
        """Columns and rows of ``sql``; QueryRefused when it is not served or hit a limit."""
        rendered = self.check(sql, parameters)
        try:
            limits = self.limits.clickhouse_settings()
            return self.store.query(rendered, parameters, settings=limits)
        except Exception as exc:
            raise QueryRefused(_first_line(exc)) from None

    def _clickhouse(self, step: str, sql: str, parameters: dict[str, Any] | None) -> list:
        try:
            return self.store.query(sql, parameters)[1]
        except Exception as exc:
            # ClickHouse names the wrapping query ("In scope SELECT formatQuery…"): not the
            # caller's business.
            reason = _first_line(exc).split(" In scope ", 1)[0].rstrip(" .:")
            raise QueryRefused(f"cannot {step}: {reason}") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
