"""Fixtures of the detector tests: the real-embedding pool is built once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits  # comes with scikit-learn (alt-profanity-check)

from tests.support.embedding_pool import EmbeddingPool, build_pool


@pytest.fixture(scope="session")
def embedding_pool(request: pytest.FixtureRequest) -> EmbeddingPool:
    """~1800 all-MiniLM-L6-v2 embeddings of generated prompts (about 10 s on two cores).

    Cached in pytest's cache directory when the cache plugin is on (keyed by texts and
    versions, see :func:`embed`).
    """
    cache = getattr(request.config, "cache", None)
    cache_dir = cache.mkdir("seismo-embeddings") if cache is not None else None
    return build_pool(cache_dir=cache_dir)


@pytest.fixture(autouse=True)
def _single_threaded_blas() -> Iterator[None]:
    """Run the many small matrix products of the rate tests on one BLAS thread each.

    The trials' matrices are a few hundred rows; a second BLAS thread gains little there,
    and on a busy two-core machine its spin-waiting made the rate tests about 3x slower.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        yield
