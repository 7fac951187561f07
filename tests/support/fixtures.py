"""Fixtures every service-level folder uses (streams, e2e, faults): a store, a deployment,
receivers and Alertmanagers. Registered for the whole suite by tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from streams.store.client import ClickHouseStore
from streams.testing.alertmanager import Alertmanager, alertmanager_binary
from streams.testing.ports import free_port
from streams.testing.receivers import HttpReceiver
from tests.support.workers import Deployment


@pytest.fixture(scope="module")
def chdb_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseStore]:
    """A migrated embedded store for one test module."""
    store = ClickHouseStore(f"chdb://{tmp_path_factory.mktemp('chdb')}")
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def deployment(kafka_bootstrap: str, tmp_path) -> Iterator[Deployment]:
    """An isolated deployment; its worker (if started) is stopped at the end of the test."""
    dep = Deployment(bootstrap=kafka_bootstrap, root=tmp_path, web_port=free_port())
    dep.create_topics()
    yield dep
    if dep.process is not None and dep.process.poll() is None:
        dep.process.kill()
        dep.process.wait()


@pytest.fixture
def receiver_factory() -> Iterator[Callable[..., HttpReceiver]]:
    """Make receivers (started unless ``started=False``); all are stopped at teardown."""
    made: list[HttpReceiver] = []

    def make(started: bool = True) -> HttpReceiver:
        receiver = HttpReceiver()
        made.append(receiver)
        return receiver.start() if started else receiver

    yield make
    for receiver in made:
        receiver.stop()


@pytest.fixture
def alertmanager_factory(tmp_path: Path) -> Iterator[Callable[..., Alertmanager]]:
    """Start Alertmanagers whose webhook posts to a given URL; all are stopped at teardown."""
    binary = alertmanager_binary()
    if binary is None:
        pytest.fail(
            "No Alertmanager for the tests: install Debian's prometheus-alertmanager "
            "(apt-get install prometheus-alertmanager) or set SEISMO_ALERTMANAGER_BIN",
            pytrace=False,
        )
    made: list[Alertmanager] = []

    def make(webhook_url: str, **options: str) -> Alertmanager:
        manager = Alertmanager(
            binary=binary,
            root=tmp_path / f"alertmanager-{len(made)}",
            webhook_url=webhook_url,
            **options,
        )
        made.append(manager)
        return manager.start()

    yield make
    for manager in made:
        manager.stop()
