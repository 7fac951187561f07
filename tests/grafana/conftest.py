"""The embedded ClickHouse with the Grafana test dataset, shared by this package's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.store.client import ClickHouseStore
from tests.grafana import dataset


@pytest.fixture(scope="package")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseStore]:
    """One store for the package: the embedded engine serves one data directory per process,
    so it is closed when the package's tests are done, before any other package opens its own.
    """
    chdb = ClickHouseStore(f"chdb://{tmp_path_factory.mktemp('grafana-chdb')}")
    dataset.fill(chdb)
    yield chdb
    chdb.close()
