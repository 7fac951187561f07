"""MMDDrift: the statistic, the permutation p-value, and its behaviour on real embeddings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors import MMDDrift
from detectors.drift.kernels import median_heuristic_sigma
from detectors.drift.mmd import _random_memberships, _split_mmd2
from tests.support.embedding_pool import draw_no_shift, draw_with_drift, rejection_rate


def explicit_mmd2(a: np.ndarray, b: np.ndarray, sigma: float) -> float:
    """Unbiased MMD² written out term by term, independent of the detector's matrix algebra."""

    def k(u: np.ndarray, v: np.ndarray) -> float:
        return math.exp(-sum((ui - vi) ** 2 for ui, vi in zip(u, v, strict=True)) / (2 * sigma**2))

    n, m = len(a), len(b)
    aa = sum(k(a[i], a[j]) for i in range(n) for j in range(n) if i != j)
    bb = sum(k(b[i], b[j]) for i in range(m) for j in range(m) if i != j)
    ab = sum(k(a[i], b[j]) for i in range(n) for j in range(m))
    return aa / (n * (n - 1)) + bb / (m * (m - 1)) - 2 * ab / (n * m)


@pytest.mark.parametrize("sigma", [None, 0.7])
def test_statistic_equals_explicit_double_loop(sigma: float | None) -> None:
    rng = np.random.default_rng(1)
    reference, window = rng.normal(size=(9, 4)), rng.normal(0.4, 1.0, size=(6, 4))
    detector = MMDDrift(reference, n_permutations=99, sigma=sigma)
    expected = explicit_mmd2(reference, window, detector.bandwidth)
    assert detector.score(window).statistic == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("n", [4, 11])  # 6 pairs (even count) and 55 pairs (odd count)
def test_median_heuristic_is_half_the_median_squared_distance(n: int) -> None:
    reference = np.random.default_rng(2).normal(size=(n, 3))
    pairs = [
        float(np.sum((reference[i] - reference[j]) ** 2)) for i in range(n) for j in range(i + 1, n)
    ]
    expected = math.sqrt(float(np.median(pairs)) / 2)
    assert median_heuristic_sigma(reference) == pytest.approx(expected, rel=1e-12)
    result = MMDDrift(reference, n_permutations=99).score(reference[:3])
    assert result.params["sigma"] == pytest.approx(expected, rel=1e-12)
    assert result.params["sigma_source"] == "median_heuristic"


def test_bandwidth_survives_a_reference_of_mostly_repeated_prompts() -> None:
    rng = np.random.default_rng(21)
    distinct = rng.normal(size=(4, 3))
    reference = np.vstack([np.repeat(distinct[:1], 16, axis=0), distinct[1:]])  # 16 copies
    positive = [
        float(np.sum((a - b) ** 2))
        for i, a in enumerate(reference)
        for b in reference[i + 1 :]
        if np.any(a != b)
    ]
    expected = math.sqrt(float(np.median(positive)) / 2)
    detector = MMDDrift(reference, n_permutations=99)
    assert detector.bandwidth == pytest.approx(expected, rel=1e-12)
    assert math.isfinite(detector.score(rng.normal(size=(10, 3))).statistic)


def test_explicit_sigma_is_used_and_reported() -> None:
    rng = np.random.default_rng(3)
    reference, window = rng.normal(size=(30, 4)), rng.normal(size=(20, 4))
    result = MMDDrift(reference, n_permutations=99, sigma=2.5).score(window)
    assert result.params["sigma"] == 2.5
    assert result.params["sigma_source"] == "fixed"
    assert result.statistic == pytest.approx(explicit_mmd2(reference, window, 2.5), abs=1e-9)


def test_vectorised_resplits_equal_explicit_mmd2_of_each_split() -> None:
    """The one-matrix-product evaluation gives each random re-split's MMD² (float32 accuracy)."""
    rng = np.random.default_rng(4)
    n, m = 7, 5
    pooled_sample = rng.normal(size=(n + m, 3))
    sigma = median_heuristic_sigma(pooled_sample[:n])
    memberships = _random_memberships(rng, 40, n + m, n)
    assert (memberships.sum(axis=1) == n).all()

    diff = pooled_sample[:, None, :] - pooled_sample[None, :, :]
    kernel = np.exp(-np.sum(diff**2, axis=2) / (2 * sigma**2))
    np.fill_diagonal(kernel, 0.0)
    fast = _split_mmd2(kernel.astype(np.float32), memberships, n, m)

    for row, value in zip(memberships.astype(bool), fast, strict=True):
        expected = explicit_mmd2(pooled_sample[row], pooled_sample[~row], sigma)
        assert value == pytest.approx(expected, abs=1e-6)


def test_p_value_lies_on_the_permutation_grid() -> None:
    rng = np.random.default_rng(5)
    reference = rng.normal(size=(40, 5))
    detector = MMDDrift(reference, n_permutations=199)
    for shift in (0.0, 0.3, 3.0):
        p = detector.score(rng.normal(shift, 1.0, size=(30, 5))).p_value
        assert 1 / 200 <= p <= 1.0
        assert p * 200 == pytest.approx(round(p * 200))


def test_identical_samples_give_a_large_p_value() -> None:
    reference = np.random.default_rng(6).normal(size=(60, 5))
    result = MMDDrift(reference, n_permutations=199).score(reference)
    assert result.statistic < 0  # the within-sample sums drop the diagonal, the cross sum keeps it
    assert result.p_value > 0.9
    assert not result.drifted


def test_clear_shift_gets_the_smallest_p_value_and_exceeds_the_threshold() -> None:
    rng = np.random.default_rng(7)
    detector = MMDDrift(rng.normal(size=(50, 5)), n_permutations=199)
    result = detector.score(rng.normal(2.0, 1.0, size=(50, 5)))
    assert result.p_value == 1 / 200
    assert result.drifted
    assert result.statistic > result.threshold


def test_threshold_and_p_value_give_the_same_decision() -> None:
    rng = np.random.default_rng(8)
    detector = MMDDrift(rng.normal(size=(60, 4)), n_permutations=99)
    decisions = []
    for shift in np.linspace(0.0, 0.8, 40):
        result = detector.score(rng.normal(shift, 1.0, size=(40, 4)))
        assert (result.statistic > result.threshold) == result.drifted
        decisions.append(result.drifted)
    assert any(decisions) and not all(decisions)


def test_same_seed_same_result_other_seed_other_permutations() -> None:
    rng = np.random.default_rng(9)
    reference, window = rng.normal(size=(60, 4)), rng.normal(0.2, 1.0, size=(60, 4))
    first = MMDDrift(reference, seed=11).score(window)
    assert MMDDrift(reference, seed=11).score(window) == first
    assert MMDDrift(reference, seed=11).score(window.copy()) == first
    other = MMDDrift(reference, seed=12).score(window)
    assert other.statistic == first.statistic
    assert other.threshold != first.threshold


def test_without_seed_each_call_draws_new_permutations() -> None:
    rng = np.random.default_rng(10)
    reference, window = rng.normal(size=(60, 4)), rng.normal(size=(60, 4))
    detector = MMDDrift(reference, seed=None)
    first, second = detector.score(window), detector.score(window)
    assert first.statistic == second.statistic
    assert first.threshold != second.threshold


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"n_permutations": 0}, "n_permutations"),
        ({"n_permutations": 10}, "n_permutations"),  # 1/11 > 0.05: could never reject
        ({"n_permutations": 2.5}, "n_permutations"),
        ({"sigma": 0.0}, "sigma"),
        ({"sigma": float("nan")}, "sigma"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_invalid_settings_name_the_argument(kwargs: dict, argument: str) -> None:
    reference = np.random.default_rng(10).normal(size=(20, 3))
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        MMDDrift(reference, **kwargs)


@pytest.mark.parametrize(
    ("reference", "argument"),
    [
        (np.zeros(10), "reference"),
        (np.zeros((1, 3)), "reference"),
        (np.full((5, 3), np.nan), "reference"),
        (np.ones((5, 3)), "reference"),  # all points equal: no median-heuristic bandwidth
    ],
)
def test_invalid_reference_is_named(reference: np.ndarray, argument: str) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        MMDDrift(reference)


@pytest.mark.parametrize("window", [np.zeros((5, 4)), np.zeros((1, 3)), np.array([[np.inf] * 3])])
def test_invalid_window_is_named(window: np.ndarray) -> None:
    detector = MMDDrift(np.random.default_rng(11).normal(size=(20, 3)), n_permutations=99)
    with pytest.raises(ValueError, match=r"^x\b"):
        detector.score(window)


# --- real embeddings of generated traffic -------------------------------------------------


def test_false_alarm_rate_on_unchanged_traffic(embedding_pool, record_property) -> None:
    rng = np.random.default_rng(12)
    draws = [draw_no_shift(embedding_pool, rng, 200, 200) for _ in range(400)]
    rate = rejection_rate(lambda ref, trial: MMDDrift(ref, seed=trial), draws)
    record_property("mmd_false_alarm_rate", rate)
    assert 0.02 <= rate <= 0.08, rate


def test_power_when_30_percent_of_the_window_is_a_new_topic(
    embedding_pool, record_property
) -> None:
    rng = np.random.default_rng(13)
    draws = [draw_with_drift(embedding_pool, rng, 200, 200, 0.3) for _ in range(200)]
    rate = rejection_rate(lambda ref, trial: MMDDrift(ref, seed=trial), draws)
    record_property("mmd_power", rate)
    assert rate >= 0.95, rate
