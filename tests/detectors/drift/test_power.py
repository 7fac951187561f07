"""The minimum detectable effect: monotone in the sample size, on the right side of the
configured effect at 10 and at 500 events, and honest about the real detectors' power."""

from __future__ import annotations

import numpy as np
import pytest

from detectors import MMDDrift
from detectors.drift.power import PowerCalibration, separable_shift_mde, verdict
from streams.settings import DriftSettings
from tests.support.embedding_pool import EmbeddingPool, draw_with_drift, rejection_rate

SETTINGS = DriftSettings()
ALPHA, MIN_EFFECT = SETTINGS.drift_alpha, SETTINGS.drift_min_effect
N_REF = SETTINGS.reference_sample  # 500: the worker's reference sample
SIZES = (2, 5, 10, 20, 35, 50, 100, 200, 350, 500, 1000)


@pytest.fixture(scope="module")
def calibration(embedding_pool: EmbeddingPool) -> PowerCalibration:
    rows = np.random.default_rng(3).choice(len(embedding_pool.stable), N_REF, replace=False)
    return PowerCalibration.from_reference(embedding_pool.stable[rows])


def test_mde_falls_as_the_window_grows(calibration: PowerCalibration) -> None:
    mdes = [calibration.mde(m, ALPHA) for m in SIZES]
    assert all(a >= b for a, b in zip(mdes, mdes[1:], strict=False)), mdes
    assert mdes[0] > mdes[-1]
    bounds = [separable_shift_mde(N_REF, m, ALPHA) for m in SIZES]
    assert all(a >= b for a, b in zip(bounds, bounds[1:], strict=False)), bounds
    # every MDE is at least what a perfectly separated shift allows
    assert all(m >= b for m, b in zip(mdes, bounds, strict=True))


def test_ten_events_cannot_detect_the_configured_effect_and_500_can(
    calibration: PowerCalibration,
) -> None:
    assert calibration.mde(10, ALPHA) > MIN_EFFECT
    assert calibration.mde(500, ALPHA) < MIN_EFFECT
    assert verdict(False, calibration.mde(10, ALPHA), MIN_EFFECT) == "insufficient_data"
    assert verdict(False, calibration.mde(500, ALPHA), MIN_EFFECT) == "no_drift"


def test_a_larger_reference_or_a_looser_level_detects_smaller_effects() -> None:
    assert separable_shift_mde(2000, 20, ALPHA) <= separable_shift_mde(100, 20, ALPHA)
    assert separable_shift_mde(500, 20, 0.05) < separable_shift_mde(500, 20, 0.001)
    # one event never rejects at 1 %: with 500 reference rows its p-value is 1/501 at best...
    assert separable_shift_mde(500, 1, 0.001) == 1.0


def test_the_mde_is_what_the_mmd_test_detects_on_a_new_topic(
    embedding_pool: EmbeddingPool, calibration: PowerCalibration,
) -> None:
    """The calibration is checked against the real detector on real embeddings: a new topic at
    well above the MDE is detected most of the time, one at a third of it mostly is not."""
    m, trials = 100, 15
    mde = calibration.mde(m, ALPHA)
    rng = np.random.default_rng(11)

    def power(fraction: float) -> float:
        draws = (draw_with_drift(embedding_pool, rng, N_REF, m, fraction) for _ in range(trials))
        return rejection_rate(
            lambda ref, t: MMDDrift(ref, alpha=ALPHA, n_permutations=200, seed=t), draws)

    assert power(min(1.0, 1.5 * mde)) >= 0.7
    assert power(mde / 3) <= 0.4


def test_a_rejection_is_drift_whatever_the_power() -> None:
    assert verdict(True, 0.9, MIN_EFFECT) == "drift"
    assert verdict(False, float("nan"), MIN_EFFECT) == "insufficient_data"


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: separable_shift_mde(0, 10, 0.01), "n_ref"),
        (lambda: separable_shift_mde(500, 10, 1.5), "alpha"),
        (lambda: separable_shift_mde(500, 10, 0.01, power=1.0), "power"),
        (lambda: PowerCalibration.from_reference(np.zeros((50, 4)), far_fraction=0), "far"),
    ],
)
def test_bad_arguments_name_themselves(call, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        call()
