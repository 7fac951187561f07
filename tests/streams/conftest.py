from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ports import free_port
from tests.streams.workers import Deployment


@pytest.fixture
def deployment(kafka_bootstrap: str, tmp_path) -> Iterator[Deployment]:
    """An isolated deployment; its worker (if started) is stopped at the end of the test."""
    dep = Deployment(bootstrap=kafka_bootstrap, root=tmp_path, web_port=free_port())
    dep.create_topics()
    yield dep
    if dep.process is not None and dep.process.poll() is None:
        dep.process.kill()
        dep.process.wait()
