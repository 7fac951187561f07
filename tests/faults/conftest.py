"""Factories for the fault tests: several workers of one deployment, and a broker of a test's
own (one it may stop without disturbing the session's)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from streams.kafka.local_broker import LocalKafka
from streams.testing.ports import free_port
from tests.support.workers import Deployment


@pytest.fixture
def worker_factory(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Callable[..., Deployment]]:
    """Make deployments; ``of=dep`` makes another worker of ``dep``: the same topics and
    consumer group, its own embedded store and web port. Running ones are killed at the end."""
    made: list[Deployment] = []

    def make(
        of: Deployment | None = None, partitions: int = 4, bootstrap: str | None = None
    ) -> Deployment:
        root = tmp_path / f"worker-{len(made)}"
        root.mkdir()
        if of is not None:
            dep = Deployment(bootstrap=of.bootstrap, root=root, web_port=free_port(),
                             name=of.name, extra_env=dict(of.extra_env))
        else:
            dep = Deployment(bootstrap=bootstrap or kafka_bootstrap, root=root,
                             web_port=free_port())
            dep.extra_env["SEISMO_TOPIC_PARTITIONS"] = str(partitions)
            dep.create_topics(partitions)
        made.append(dep)
        return dep

    yield make
    for dep in made:
        if dep.process is not None and dep.process.poll() is None:
            dep.process.kill()
            dep.process.wait()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalKafka]:
    """A broker for this test alone (same version as the session's), started; stopped at the
    end. ``down()`` and ``up()`` on it keep its data: the home directory stays."""
    broker = LocalKafka(version=os.environ.get("SEISMO_KAFKA_VERSION", "3.9.1"),
                        port=free_port(pairs=2), home=tmp_path / "own-kafka")
    broker.up(timeout=120)
    yield broker
    broker.down()
