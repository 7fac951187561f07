"""Both encodings (and "auto" on each) for every test that takes ``encode``."""

from __future__ import annotations

import pytest

from tests.streams.ingest.otlp.fixtures import ENCODERS, Encode


@pytest.fixture(params=sorted(ENCODERS))
def encode(request: pytest.FixtureRequest) -> Encode:
    return ENCODERS[request.param]
