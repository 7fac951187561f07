"""Both encodings (and "auto" on each) for every test that takes ``encode``."""

from __future__ import annotations

import pytest

from tests.streams.ingest.otlp.fixtures import ENCODERS, Encode
from tests.support.otel_capture import MODES, Captured, FakeOpenAI, capture


@pytest.fixture(params=sorted(ENCODERS))
def encode(request: pytest.FixtureRequest) -> Encode:
    return ENCODERS[request.param]


@pytest.fixture(scope="package")
def captured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Captured]:
    """What every instrumentation mode exports for the same calls (one child process each)."""
    server = FakeOpenAI().start()
    try:
        root = tmp_path_factory.mktemp("otel")
        return {mode: capture(mode, server.url, root / mode) for mode in MODES}
    finally:
        server.stop()
