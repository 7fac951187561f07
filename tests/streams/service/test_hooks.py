"""The worker's hooks: no-ops unless the environment asks for a fault, and the service never
imports the faults (``seismo worker`` hands them in)."""

from __future__ import annotations

import ast
import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from streams.exceptions import ConfigError
from streams.service.hooks import NO_HOOKS
from streams.testing.faults import (
    POISON_ENV,
    SINK_OUTAGE_ENV,
    InjectedPoison,
    SinkOutagePlan,
    SinkOutageStore,
    fault_hooks,
)

SERVICE = Path(__file__).parents[3] / "streams" / "service"


def test_without_a_fault_every_hook_returns_what_it_is_given() -> None:
    store, prepare = object(), object()
    for hooks in (NO_HOOKS, fault_hooks({})):
        assert hooks.store(store) is store  # type: ignore[arg-type]
        assert hooks.prepare(prepare) is prepare  # type: ignore[arg-type]


def test_a_sink_outage_wraps_the_store_as_planned() -> None:
    wrapped = fault_hooks({SINK_OUTAGE_ENV: "5000:30"}).store(object())  # type: ignore[arg-type]
    assert isinstance(wrapped, SinkOutageStore)
    assert wrapped.plan == SinkOutagePlan(5000, 30.0)
    with pytest.raises(ConfigError, match=SINK_OUTAGE_ENV):
        fault_hooks({SINK_OUTAGE_ENV: "soon"})


def test_poison_fails_only_the_batches_holding_the_marker() -> None:
    async def prepare(values, now):  # the batch as it was given, standing in for the rows
        return list(values)

    poisoned = fault_hooks({POISON_ENV: "POISON"}).prepare(prepare)  # type: ignore[arg-type]

    async def scenario() -> None:
        now = datetime.now(UTC)
        assert await poisoned([b"fine", None], now) == [b"fine", None]
        with pytest.raises(InjectedPoison):
            await poisoned([b"fine", b"a POISON record"], now)

    asyncio.run(scenario())


def test_the_service_never_imports_the_testing_package() -> None:
    for path in SERVICE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.startswith("streams.testing") for n in names), path.name
