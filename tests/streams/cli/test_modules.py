"""The command modules share helpers through streams.cli.common; only main assembles them, and
no two import each other in a circle (``cli.py`` and ``demo.py`` once did)."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

CLI = Path(__file__).parents[3] / "streams" / "cli"


def cli_imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in CLI.glob("*.py"):
        graph[path.stem] = {
            node.module.rsplit(".", 1)[1]
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("streams.cli.")
        }
    return graph


def test_only_the_entry_point_imports_main_and_nothing_imports_in_a_circle() -> None:
    graph = cli_imports()
    assert {name for name, imported in graph.items() if "main" in imported} == set()
    assert graph["main"] >= {"kafka", "status", "demo", "grafana", "report", "baseline"}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle among the command modules: {exc.args[1]}") from None
