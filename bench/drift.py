"""Timing of the embedding drift detectors: one test of a window against a reference.

Run: ``.venv/bin/python bench/drift.py``. Shapes are those of one production window with
all-MiniLM-L6-v2 embeddings: n = m = 500 rows of d = 384, B = 500 resamples. Each figure is
the median of ``--repeats`` runs after one warm-up run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detectors import CentroidDrift, MMDDrift  # noqa: E402
from detectors.kernels import gaussian_kernel  # noqa: E402

N_REF = N_TEST = 500
DIM = 384
RESAMPLES = 500


@dataclass(frozen=True)
class Row:
    """One line of the printed table."""

    what: str
    value: float
    unit: str
    note: str = ""


def median_seconds(run: Callable[[], object], repeats: int, *, warmup: bool = True) -> float:
    """Median wall-clock time of ``run()`` over ``repeats`` calls, after one warm-up call."""
    if warmup:
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def unit_rows(rng: np.random.Generator, rows: int, shift: float = 0.0) -> np.ndarray:
    """Unit-length vectors around a common direction, like normalised sentence embeddings."""
    x = rng.normal(size=(rows, DIM)) + 2.0 + shift
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def looped_permutation_test(
    reference: np.ndarray, window: np.ndarray, sigma: float, n_permutations: int, seed: int
) -> float:
    """The textbook version, for the speed-up ratio: one pooled kernel, a loop over splits."""
    n, pooled = reference.shape[0], np.vstack([reference, window])
    kernel = gaussian_kernel(pooled, sigma=sigma)
    np.fill_diagonal(kernel, 0.0)

    def mmd2(first: np.ndarray, second: np.ndarray) -> float:
        a, b = len(first), len(second)
        return (
            kernel[np.ix_(first, first)].sum() / (a * (a - 1))
            + kernel[np.ix_(second, second)].sum() / (b * (b - 1))
            - 2.0 * kernel[np.ix_(first, second)].sum() / (a * b)
        )

    rng = np.random.default_rng(seed)
    everyone = np.arange(pooled.shape[0])
    observed = mmd2(everyone[:n], everyone[n:])
    at_least = 0
    for _ in range(n_permutations):
        order = rng.permutation(pooled.shape[0])
        at_least += mmd2(order[:n], order[n:]) >= observed
    return (1 + at_least) / (1 + n_permutations)


def bench_mmd(rng: np.random.Generator, repeats: int) -> list[Row]:
    reference, window = unit_rows(rng, N_REF), unit_rows(rng, N_TEST, shift=0.05)
    build = median_seconds(lambda: MMDDrift(reference, n_permutations=RESAMPLES), repeats)
    seeded = MMDDrift(reference, n_permutations=RESAMPLES, seed=0)
    unseeded = MMDDrift(reference, n_permutations=RESAMPLES, seed=None)
    score_seeded = median_seconds(lambda: seeded.score(window), repeats)
    score_fresh = median_seconds(lambda: unseeded.score(window), repeats)
    looped = median_seconds(
        lambda: looped_permutation_test(reference, window, seeded.bandwidth, RESAMPLES, 0),
        max(1, repeats // 2),
        warmup=False,
    )
    return [
        Row("MMDDrift.__init__ (bandwidth, reference kernel)", build * 1e3, "ms"),
        Row("MMDDrift.score, one permutation test", score_fresh * 1e3, "ms", "target < 100 ms"),
        Row("  same, seeded: re-splits reused for a size", score_seeded * 1e3, "ms"),
        Row("  same test, Python loop over permutations", looped * 1e3, "ms"),
        Row("  speed-up of the one-product version", looped / score_fresh, "x"),
    ]


def bench_centroid(rng: np.random.Generator, repeats: int) -> list[Row]:
    reference, window = unit_rows(rng, N_REF), unit_rows(rng, N_TEST, shift=0.05)
    rows = []
    for metric in ("euclidean", "cosine"):

        def cold(metric: str = metric) -> None:
            # a new detector has no cached null: this includes the bootstrap for size m
            CentroidDrift(reference, metric=metric, n_bootstrap=RESAMPLES).score(window)

        detector = CentroidDrift(reference, metric=metric, n_bootstrap=RESAMPLES)
        warm = median_seconds(lambda detector=detector: detector.score(window), repeats)
        rows += [
            Row(
                f"CentroidDrift({metric}) first window of a size",
                median_seconds(cold, repeats) * 1e3,
                "ms",
                "bootstrap of B pairs",
            ),
            Row(
                f"CentroidDrift({metric}) next windows of that size",
                warm * 1e3,
                "ms",
                "null cached per m",
            ),
        ]
    return rows


# --- embedding stage ----------------------------------------------------------------------
# TODO(embedding stage): another engineer adds the embedding-stage throughput ratio here
# (e.g. texts/s of the batched, cached embedder vs. one-by-one encoding). Return Rows; they
# are printed in the same table.
def bench_embedding_throughput(repeats: int) -> list[Row]:
    """Embedding-stage throughput ratio: not measured yet (see the TODO above)."""
    del repeats
    return []


# --------------------------------------------------------------------------------------------


def usable_cpus() -> int:
    """CPUs this process may run on (respects ``taskset`` and container limits)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def print_table(rows: list[Row]) -> None:
    width = max(len(row.what) for row in rows)
    print(f"{'measure':<{width}}  {'value':>10}  unit  note")
    print(f"{'-' * width}  {'-' * 10}  ----  {'-' * 20}")
    for row in rows:
        print(f"{row.what:<{width}}  {row.value:>10.2f}  {row.unit:<4}  {row.note}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per figure")
    args = parser.parse_args(argv)

    try:
        from threadpoolctl import threadpool_info

        pools = (f"{i['internal_api']} x{i['num_threads']}" for i in threadpool_info())
        blas = ", ".join(dict.fromkeys(pools))
    except ImportError:
        blas = "unknown"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"n = m = {N_REF}, d = {DIM}, B = {RESAMPLES}; {usable_cpus()} CPUs, BLAS {blas}, "
        f"load average {load:.1f} (figures grow with other work on the machine); "
        f"median of {args.repeats} runs after a warm-up"
    )
    rng = np.random.default_rng(0)
    rows = bench_mmd(rng, args.repeats) + bench_centroid(rng, args.repeats)
    rows += bench_embedding_throughput(args.repeats)
    print_table(rows)


if __name__ == "__main__":
    main()
