"""The e-CUSUM on per-window p-values: its false-alarm rate under no change stays within its
level, a large shift alarms in one window and a small persistent one within a few."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from detectors.change import sequential
from detectors.drift.mmd import MMDDrift

LEVEL = 1e-3


def test_false_alarms_on_null_p_values_stay_within_the_binomial_bound() -> None:
    windows = 100_000
    p_values = np.random.default_rng(7).random(windows)
    alarms = sequential.run(list(p_values), LEVEL)
    # The e-detector's mean run length is at least 1/level: at most level alarms per window
    # on average; a count beyond the binomial 99.9 % quantile at that rate would refute it.
    assert len(alarms) <= stats.binom.ppf(0.999, windows, LEVEL)


def _shifted_p_values(shift: float, windows: int, seed: int) -> list[float]:
    """One-sided z-test p-values of windows whose mean moved by ``shift`` standard errors."""
    z = np.random.default_rng(seed).normal(shift, 1.0, size=windows)
    return list(stats.norm.sf(z))


@pytest.mark.parametrize("level", [1e-3, 1e-6])
def test_a_large_shift_alarms_in_its_first_window(level: float) -> None:
    delays = [sequential.run(_shifted_p_values(9.0, 5, seed), level)[0] for seed in range(20)]
    assert delays == [0] * 20


def test_a_small_persistent_shift_alarms_within_a_few_windows() -> None:
    level = 1e-5
    delays = [sequential.run(_shifted_p_values(2.0, 60, seed), level) for seed in range(20)]
    first = [d[0] for d in delays if d]
    assert len(first) == 20  # every run alarms
    assert 1 <= np.median(first) <= 15  # never in one window (p ~ 0.02 is no proof alone)


def test_one_window_needs_a_p_value_below_the_level_over_log_squared() -> None:
    for level in (1e-3, 1e-5, 1e-7):
        floor = sequential.one_window_p(level)
        assert sequential.alarmed(sequential.update(1.0, floor * 0.99), level)
        assert not sequential.alarmed(sequential.update(1.0, floor * 1.5), level)
        assert floor < level


def test_mmd_reports_a_tail_p_value_beyond_its_permutations() -> None:
    rng = np.random.default_rng(3)
    detector = MMDDrift(rng.normal(size=(200, 4)), n_permutations=200, seed=1)
    shifted = detector.score(rng.normal(1.5, 1.0, size=(200, 4)))
    assert shifted.p_value == pytest.approx(1 / 201)
    # Far below the permutation floor, so one window can page at a small budget level.
    assert shifted.params["tail_p_value"] < 1e-8
    same = detector.score(rng.normal(size=(200, 4)))
    assert same.params.get("tail_p_value", same.p_value) >= 1 / 201


def test_a_rate_with_an_objective_reports_the_p_value_against_it() -> None:
    from detectors.change.rate_change import RateChange

    test = RateChange(5, 1000, metric="error_rate", test="fisher", alpha=0.001,
                      alternative="increase", max_rate=0.05)
    within = test.score(4, 100).params["objective_p_value"]
    above = test.score(20, 100).params["objective_p_value"]
    assert within > 0.5 and above < 1e-4
