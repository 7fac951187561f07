"""The minimum detectable effect per (reference size, window size), and how it compares with
the simulated power of the real MMD test on a new topic.

Run: ``.venv/bin/python bench/power.py [--trials 20] [--no-simulation]``.
Prints, on all-MiniLM-L6-v2 embeddings of the generator's prompts, the MDE
(:mod:`detectors.drift.power`: the share of a window's events on a held-out topic detected
with power 0.8 at ``drift_alpha``) for each pair of sizes, marking those above
``drift_min_effect`` (verdict insufficient_data). Then, for a 500-row reference, the simulated
power of ``MMDDrift`` when the window carries the generator's drift topic at the MDE (the
calibration is right where this is near 0.8).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from common import print_machine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detectors import MMDDrift  # noqa: E402
from detectors.drift.power import PowerCalibration  # noqa: E402
from streams.settings import DriftSettings  # noqa: E402
from tests.support.embedding_pool import build_pool, draw_with_drift  # noqa: E402

REFERENCES = (100, 150, 300, 500, 1000)
WINDOWS = (5, 10, 20, 35, 50, 100, 200, 500)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--no-simulation", action="store_true")
    args = parser.parse_args()
    print_machine("bench/power.py: minimum detectable effect of the drift tests")
    settings = DriftSettings()
    alpha, min_effect = settings.drift_alpha, settings.drift_min_effect
    pool = build_pool(n_stable=1500)
    rng = np.random.default_rng(0)
    print(f"\nminimum detectable effect (share of a new topic, power 0.8, alpha {alpha:g}); "
          f"* = above drift_min_effect {min_effect:g} (insufficient_data)")
    print("reference \\ window " + "".join(f"{m:>8}" for m in WINDOWS))
    calibrations = {}
    for n in REFERENCES:
        rows = rng.choice(len(pool.stable), n, replace=False)
        calibrations[n] = cal = PowerCalibration.from_reference(pool.stable[rows])
        cells = "".join(
            f"{cal.mde(m, alpha):>7.2f}{'*' if cal.mde(m, alpha) > min_effect else ' '}"
            for m in WINDOWS)
        print(f"{n:>18} {cells}")
    if args.no_simulation:
        return
    print(f"\nsimulated MMD power at the MDE (reference 500, {args.trials} trials, B = 200)")
    print(f"{'window':>8}{'MDE':>8}{'power':>8}")
    for m in (10, 20, 50, 100, 200):
        mde = calibrations[500].mde(m, alpha)
        hits = 0
        for trial in range(args.trials):
            ref, window = draw_with_drift(pool, rng, 500, m, mde)
            hits += MMDDrift(ref, alpha=alpha, n_permutations=200, seed=trial).score(window).drifted
        print(f"{m:>8}{mde:>8.2f}{hits / args.trials:>8.2f}")


if __name__ == "__main__":
    main()
