"""The house rules of the code base, read from the source: which package may import which,
and how long a module or a function may grow.

Layers follow the stage of the data flow (DESIGN.md, "Layout"). A module may import its own
top package (``streams.kafka`` from ``streams.kafka``) and any package of a lower layer, never
one of its own layer or above: so ``streams.store`` cannot reach for ``streams.kafka``, and
nothing below the service knows the service exists. Imports inside functions count too: a lazy
import against the direction is still a dependency.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. The base of the service (settings, errors, counters, heap tuning, API tokens)
# is one group whose modules may import one another: every stage reads them.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("schemas",),
    ("detectors",),
    ("streams.exceptions", "streams.settings", "streams.metrics", "streams.heap",
     "streams.api_tokens"),
    ("streams.kafka", "streams.store", "streams.embedding"),
    ("streams.ingest", "streams.windows"),
    ("streams.alerting",),
    # The report renders what the store holds; the service serves it (the live page).
    ("streams.report",),
    ("streams.service",),
    # Development tools build on the service (the fault hooks are WorkerHooks) and only the
    # CLI hands them in: the service never knows them.
    ("streams.testing",),
    ("streams.cli",),
    ("streams.__main__",),
)
BASE_LAYER = 2
# grafana/ renders provisioning from the contracts alone: it runs where the worker does not.
GRAFANA_MAY_IMPORT = ("schemas", "grafana")
CHECKED = ("schemas", "detectors", "streams", "grafana")

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
# Written vocabularies of the traffic generator: data, not logic, that reads best in one place.
VOCABULARIES = {
    "streams/testing/generator/vocabulary.py",
    "streams/testing/generator/topics.py",
}
SIZED = ("schemas", "detectors", "streams", "grafana", "bench", "tests")


def _python_files(folders: tuple[str, ...]) -> Iterator[Path]:
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _group(module: str) -> tuple[int, str] | None:
    """(layer, group) of a first-party module: the longest layer prefix it falls under."""
    best: tuple[int, str] | None = None
    for layer, groups in enumerate(LAYERS):
        for group in groups:
            if (module == group or module.startswith(group + ".")) and (
                best is None or len(group) > len(best[1])
            ):
                best = (layer, group)
    return best


def _imports(path: Path, module: str) -> Iterator[tuple[int, str]]:
    """(line, imported module) of every import in the file, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield node.lineno, target
            # `from streams import kafka` imports the subpackage streams.kafka
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}"


def import_violations(files: Iterator[Path]) -> list[str]:
    found: list[str] = []
    seen: set[tuple[Path, int, str]] = set()  # `from a.b import c` names a.b and maybe a.b.c
    for path in files:
        module = _module_name(path)
        where = path.relative_to(ROOT)
        if module.split(".")[0] == "grafana":
            for line, target in _imports(path, module):
                top = target.split(".")[0]
                if top in CHECKED and top not in GRAFANA_MAY_IMPORT:
                    found.append(f"{where}:{line} imports {target}: grafana/ may import "
                                 f"only {', '.join(GRAFANA_MAY_IMPORT)}")
            continue
        own = _group(module)
        if own is None and module in CHECKED:  # a top package's own __init__
            continue
        if own is None:
            found.append(f"{where}: {module} is in no layer of tests/test_layout.py")
            continue
        for line, target in _imports(path, module):
            theirs = _group(target)
            if target.split(".")[0] == "grafana":
                theirs = (len(LAYERS), "grafana")  # only the CLI may drive grafana/
                if own[1] == "streams.cli":
                    continue
            if theirs is None or theirs[1] == own[1]:
                continue
            if theirs[0] < own[0] or own[0] == theirs[0] == BASE_LAYER:
                continue
            if (path, line, theirs[1]) in seen:
                continue
            seen.add((path, line, theirs[1]))
            found.append(f"{where}:{line} imports {target} ({theirs[1]}, layer {theirs[0]}) "
                         f"from {own[1]} (layer {own[0]})")
    return found


def test_every_import_follows_the_data_flow() -> None:
    assert import_violations(_python_files(CHECKED)) == []


def test_faust_is_imported_only_by_the_service() -> None:
    users = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _python_files(("schemas", "detectors", "streams", "grafana"))
        for line, target in _imports(path, _module_name(path))
        if target.split(".")[0] == "faust" and not _module_name(path).startswith("streams.service")
    ]
    assert users == []


@pytest.mark.parametrize(
    ("source", "violation"),
    [
        ("from streams.service.app import build_app\n", "streams.service"),
        ("from streams.kafka.admin import ensure_topics\n", "streams.kafka"),
        ("def late():\n    from streams.cli.main import main\n", "streams.cli"),
    ],
)
def test_an_import_against_the_direction_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, violation: str
) -> None:
    # The checker itself, on a store module that reaches up (or sideways) to another stage.
    fake_root = tmp_path
    module = fake_root / "streams" / "store" / "leak.py"
    module.parent.mkdir(parents=True)
    module.write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    found = import_violations(iter([module]))
    assert len(found) == 1 and violation in found[0], found


def test_modules_and_functions_stay_small() -> None:
    too_long = []
    for path in _python_files(SIZED):
        where = str(path.relative_to(ROOT))
        source = path.read_text()
        lines = source.count("\n")
        if lines > MAX_MODULE_LINES and where not in VOCABULARIES:
            too_long.append(f"{where}: {lines} lines")
        for node in ast.walk(ast.parse(source, where)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{where}:{node.lineno} {node.name}(): {length} lines")
    assert too_long == []
