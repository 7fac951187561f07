"""What tune_malloc costs a window close: the same closes with glibc's defaults and tuned.

Run: ``.venv/bin/python bench/heap.py [--closes 20] [--warm-up 4] [--rounds 2]``.

:func:`streams.heap.tune_malloc` makes glibc map every block of 128 KiB or more afresh and
unmap it when freed, instead of reusing freed heap. That keeps the worker's resident memory
flat (the soak in ``make test-slow`` measures it: a worker's threads interleave their
allocations, which is where the heap fragmented), but page faults on fresh mappings cost CPU.
This script prices it on what dominates a close's large allocations: the bare
all-MiniLM-L6-v2 model encodes 64 texts of 5 to 150 words (batches padded to a different
length every time) and the MMD permutation test scores a window of 50 to 150 rows against a
reference of 100. Both modes run the same seeded closes in a fresh process and call
``release_free_heap`` after every close as the worker does; they differ only in whether
``tune_malloc`` ran first. The modes alternate for ``--rounds`` rounds so that other load on
the machine hits both alike. A single thread does not fragment the heap the way the worker
does, so the RSS printed here stays flat in both modes; the time per close is the figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from common import ROOT, Row, load_average, print_machine, print_table

CHILD = """
import json, sys, time
from pathlib import Path
import numpy as np
sys.path.insert(0, {root!r})
from streams.heap import release_free_heap, tune_malloc
if {tuned}:
    tune_malloc()
from detectors import MMDDrift
from streams.embedding.encoder import TextEmbedder

def rss_mib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

rng = np.random.default_rng(7)
words = [f"w{{i}}" for i in range(5000)]
embedder = TextEmbedder()
reference = rng.normal(size=(100, 384)).astype(np.float32)
mmd = MMDDrift(reference, n_permutations=500, seed=0)
samples = []
for _ in range({closes}):
    began = time.perf_counter()
    texts = [" ".join(rng.choice(words, size=int(rng.integers(5, 150))))
             for _ in range(64)]
    embedder.encode_uncached(texts)
    mmd.score(rng.normal(size=(int(rng.integers(50, 150)), 384)).astype(np.float32))
    release_free_heap()
    samples.append((time.perf_counter() - began, rss_mib()))
print(json.dumps(samples))
"""

MODES = ("glibc defaults", "tune_malloc")


def run_mode(tuned: bool, closes: int) -> list[tuple[float, float]]:
    program = CHILD.format(root=str(ROOT), tuned=tuned, closes=closes)
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         check=True, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    return [tuple(s) for s in json.loads(out.stdout.splitlines()[-1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--closes", type=int, default=20, help="window closes per process")
    parser.add_argument("--warm-up", type=int, default=4, help="closes not timed")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the two modes")
    args = parser.parse_args()
    print_machine("heap")
    runs: dict[str, list[list[tuple[float, float]]]] = {mode: [] for mode in MODES}
    for _ in range(args.rounds):
        for mode in MODES:
            runs[mode].append(run_mode(mode == "tune_malloc", args.closes))
    rows = []
    per_close = {}
    for mode in MODES:
        per_close[mode] = statistics.median(
            s for run in runs[mode] for s, _ in run[args.warm_up:])
        warm = statistics.median(run[args.warm_up - 1][1] for run in runs[mode])
        end = statistics.median(run[-1][1] for run in runs[mode])
        rows += [
            Row(f"{mode}: time per close", per_close[mode], "s", "median after warm-up"),
            Row(f"{mode}: RSS after warm-up -> end", end, "MiB", f"from {warm:.0f} MiB"),
        ]
    rows.append(Row("time per close, tune_malloc / glibc defaults",
                    per_close["tune_malloc"] / per_close["glibc defaults"], "x"))
    print_table(rows, f"{args.closes} closes per process, {args.rounds} rounds")
    print(f"load after: {load_average()}")


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"took {time.monotonic() - started:.0f}s")
