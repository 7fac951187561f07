"""Seismo's MMDDrift against alibi-detect's MMDDrift (PyTorch backend) on identical arrays.

Run: ``.venv/bin/python bench/alibi_compare.py [--n 500] [--d 384] [--permutations 500]``.

alibi-detect 0.13 pins numpy < 2, so it lives in its own virtualenv, ``bench/.venv-alibi``::

    .tools/bin/uv venv bench/.venv-alibi --python 3.11
    .tools/bin/uv pip install --python bench/.venv-alibi -r bench/requirements-alibi.txt

This one script is the driver and, with ``--alibi-side``, the part that runs in that venv: the
driver saves the arrays (``.npz`` in a temporary directory), times Seismo's detector in this
process, runs itself under ``bench/.venv-alibi/bin/python`` for alibi's, and prints both
statistics, their difference, both times and the ratio. Without the venv the alibi half says
"unavailable" and why.

The two statistics are the same quantity (checked in alibi-detect 0.13's source,
``cd/pytorch/mmd.py`` and ``utils/pytorch/distance.py:mmd2_from_kernel_matrix``): the unbiased
MMD² of reference ``R`` (n rows) and window ``X`` (m rows) with the zero-diagonal kernel
matrix, ``sum_{i!=j} k(r_i, r_j) / (n(n-1)) + sum_{i!=j} k(x_i, x_j) / (m(m-1)) - 2 mean
k(r_i, x_j)``, and the kernel ``k(a, b) = exp(-||a - b||² / (2 sigma²))`` (``GaussianRBF``).
Both are given the same ``sigma`` and float64 arrays, so they must agree to rounding (the
check is 1e-6). They differ elsewhere, which the table notes:

* bandwidth when none is given: Seismo takes ``sigma² = median(off-diagonal d²) / 2`` with
  numpy's median (the mean of the two middle values for an even count); alibi's
  ``sigma_median`` takes one order statistic of the same off-diagonal values (each pair
  counted twice), so the two agree up to the gap between neighbouring order statistics. Both
  sigmas are printed side by side;
* p-value: Seismo ``(1 + #{perm >= observed}) / (1 + B)`` (a valid test for any B); alibi
  ``#{perm >= observed} / B`` (can be 0);
* permutations: alibi indexes the pooled kernel matrix once per permutation (a Python loop of
  B re-indexed copies); Seismo evaluates all B splits with one float32 matrix product.

Times are of ``score`` on a fitted detector (the reference kernel already computed), B
permutations each, best of ``--repeats`` after a warm-up; alibi is timed on float32 input,
its usual dtype (float64 would only slow it down).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from common import ROOT, Row, load_average, print_machine, print_table, unit_rows

ALIBI_PYTHON = ROOT / "bench" / ".venv-alibi" / "bin" / "python"
TOLERANCE = 1e-6


def best_seconds(run: Callable[[], object], repeats: int) -> float:
    """Best wall-clock time of ``run()`` over ``repeats`` calls after a warm-up (both venvs)."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


# -- the half that runs in bench/.venv-alibi --------------------------------------------------
def alibi_side(arrays: Path, out: Path, repeats: int) -> None:
    """alibi-detect's statistic at the given sigma, its own sigma, and its time per score."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import alibi_detect
    import torch
    from alibi_detect.cd import MMDDrift

    data = np.load(arrays)
    reference, window, sigma = data["reference"], data["window"], float(data["sigma"])
    permutations = int(data["permutations"])

    def detector(ref: np.ndarray, **kwargs: object) -> MMDDrift:
        return MMDDrift(ref, backend="pytorch", device="cpu", n_permutations=permutations,
                        **kwargs)

    fixed = detector(reference, sigma=np.array([sigma]))
    _, statistic, _ = fixed.score(window)
    inferred = detector(reference)  # sigma_median on the reference against itself
    fast = detector(reference.astype(np.float32), sigma=np.array([sigma], dtype=np.float32))
    window32 = window.astype(np.float32)
    p_value, _, threshold = fast.score(window32)
    score = best_seconds(lambda: fast.score(window32), repeats)
    out.write_text(json.dumps({
        "statistic": float(statistic),
        "sigma_median": float(inferred._detector.kernel.sigma.detach().numpy()[0]),
        "p_value": float(p_value),
        "threshold": float(threshold),
        "score_seconds": score,
        "version": f"alibi-detect {alibi_detect.__version__}, torch {torch.__version__} "
                   f"({torch.get_num_threads()} threads), numpy {np.__version__}",
    }))


def run_alibi(arrays: Path, repeats: int) -> dict | str:
    """alibi's figures, or the reason they are unavailable."""
    if not ALIBI_PYTHON.exists():
        return (f"{ALIBI_PYTHON.relative_to(ROOT)} does not exist (create it as the module "
                "docstring says)")
    out = arrays.with_suffix(".alibi.json")
    result = subprocess.run(
        [str(ALIBI_PYTHON), __file__, "--alibi-side", str(arrays), str(out),
         "--repeats", str(repeats)],
        capture_output=True, text=True, timeout=1800,
    )
    if result.returncode != 0 or not out.exists():
        lines = (result.stderr or result.stdout).strip().splitlines()
        return f"the alibi venv failed: {lines[-1] if lines else result.returncode}"
    return json.loads(out.read_text())


# -- the driver, in the project venv ----------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="rows of reference and window")
    parser.add_argument("--d", type=int, default=384, help="dimension")
    parser.add_argument("--permutations", type=int, default=500, help="B")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure")
    parser.add_argument("--alibi-side", nargs=2, type=Path, metavar=("ARRAYS", "OUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.alibi_side:
        alibi_side(*args.alibi_side, args.repeats)
        return

    from detectors import MMDDrift

    print_machine(f"MMD against alibi-detect: n = m = {args.n}, d = {args.d}, "
                  f"B = {args.permutations}; best of {args.repeats} runs after a warm-up")
    rng = np.random.default_rng(0)
    reference = unit_rows(rng, args.n, args.d)
    window = unit_rows(rng, args.n, args.d, shift=0.05)  # the same arrays as drift.py
    heuristic = MMDDrift(reference, n_permutations=args.permutations)
    sigma = heuristic.bandwidth
    ours = MMDDrift(reference, n_permutations=args.permutations, sigma=sigma, seed=None)
    result = ours.score(window)
    our_seconds = best_seconds(lambda: ours.score(window), args.repeats)

    with tempfile.TemporaryDirectory(prefix="seismo-alibi-") as tmp:
        arrays = Path(tmp) / "arrays.npz"
        np.savez(arrays, reference=reference, window=window, sigma=sigma,
                 permutations=args.permutations)
        print("running alibi-detect in bench/.venv-alibi …", flush=True)
        alibi = run_alibi(arrays, args.repeats)

    rows = [
        Row("Seismo MMD² (unbiased, sigma fixed)", result.statistic, "",
            f"p = {result.p_value:.4f}"),
        Row("Seismo sigma, median heuristic", sigma, ""),
        Row("Seismo MMDDrift.score", our_seconds * 1e3, "ms", "one float32 product for all B"),
    ]
    if isinstance(alibi, str):
        rows.append(Row("alibi-detect MMDDrift", float("nan"), "", f"unavailable: {alibi}"))
        print_table(rows)
        return
    difference = abs(result.statistic - alibi["statistic"])
    rows += [
        Row("alibi MMD² (same arrays, same sigma)", alibi["statistic"], "",
            f"p = {alibi['p_value']:.4f} (its own permutations)"),
        Row("  |difference|", difference, "",
            f"{'agree' if difference <= TOLERANCE else 'DIFFER'} to {TOLERANCE:g} "
            f"(relative {difference / abs(result.statistic):.1e})"),
        Row("alibi sigma, sigma_median on the reference", alibi["sigma_median"], "",
            f"relative difference {abs(alibi['sigma_median'] / sigma - 1):.1e}"),
        Row("alibi MMDDrift.score (pytorch, cpu)", alibi["score_seconds"] * 1e3, "ms",
            "loop of B permuted kernel copies"),
        Row("  time ratio alibi / Seismo", alibi["score_seconds"] / our_seconds, "x"),
    ]
    print_table(rows)
    print(f"{alibi['version']}; Seismo {result.statistic:.12f}, alibi "
          f"{alibi['statistic']:.12f}")
    print(f"load average {load_average()} at the end")
    if difference > TOLERANCE:
        sys.exit(1)


if __name__ == "__main__":
    main()
