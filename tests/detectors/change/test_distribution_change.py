"""DistributionChange: level on no-change windows, power on real changes, reservoir, contract."""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable

import numpy as np
import pytest

from detectors.change.distribution_change import DistributionChange
from detectors.result import DetectorResult

ALPHA = 0.05
# Enough no-change trials that a level of 0.05 is told apart from 0.02 or 0.08 (sd ~0.011);
# power is checked on fewer, since it is far from its bound.
LEVEL_TRIALS = 400
POWER_TRIALS = 200
N_REF, N_WINDOW = 2000, 200
TESTS = ["ks", "mannwhitney"]

Sampler = Callable[[np.random.Generator, int], np.ndarray]


def latency(rng: np.random.Generator, n: int) -> np.ndarray:
    """Log-normal LLM latencies, median 800 ms, heavy right tail."""
    return rng.lognormal(np.log(800.0), 0.8, n)


def completion_tokens(rng: np.random.Generator, n: int) -> np.ndarray:
    """Small integer counts: many ties and many zeros."""
    return rng.poisson(3.0, n).astype(float)


def firing_rate(
    test: str,
    reference: Sampler,
    window: Sampler,
    seed: int,
    trials: int = POWER_TRIALS,
    **settings: object,
) -> float:
    """Fraction of ``trials`` independent (reference, window) pairs that fire."""
    rng = np.random.default_rng(seed)
    fired = 0
    for _ in range(trials):
        detector = DistributionChange(reference(rng, N_REF), test=test, alpha=ALPHA, **settings)
        fired += detector.score(window(rng, N_WINDOW)).drifted
    return fired / trials


@pytest.mark.parametrize("test", TESTS)
def test_false_alarm_rate_on_unchanged_latency_is_alpha(test):
    rate = firing_rate(test, latency, latency, seed=11, trials=LEVEL_TRIALS)
    assert 0.02 <= rate <= 0.08


@pytest.mark.parametrize("test", TESTS)
def test_detects_latency_up_by_half(test):
    rate = firing_rate(test, latency, lambda rng, n: 1.5 * latency(rng, n), seed=12)
    assert rate >= 0.95


def test_mannwhitney_keeps_its_level_on_tied_token_counts():
    rate = firing_rate(
        "mannwhitney", completion_tokens, completion_tokens, seed=13, trials=LEVEL_TRIALS
    )
    assert 0.02 <= rate <= 0.08


def test_ks_on_tied_token_counts_is_conservative():
    # Documented: KS p-values assume continuous data; ties make it alarm less, never more.
    rate = firing_rate("ks", completion_tokens, completion_tokens, seed=14, trials=LEVEL_TRIALS)
    assert rate <= ALPHA + 0.03


@pytest.mark.parametrize("test", TESTS)
def test_detects_more_tokens(test):
    rate = firing_rate(test, completion_tokens, lambda rng, n: completion_tokens(rng, n) + 1, 15)
    assert rate >= 0.95


@pytest.mark.parametrize("test", TESTS)
def test_one_sided_alternatives_fire_only_in_their_direction(test):
    def slower(rng, n):
        return 1.5 * latency(rng, n)

    def faster(rng, n):
        return latency(rng, n) / 1.5

    assert firing_rate(test, latency, slower, seed=16, alternative="increase") >= 0.95
    assert firing_rate(test, latency, faster, seed=17, alternative="increase") <= ALPHA
    assert firing_rate(test, latency, faster, seed=18, alternative="decrease") >= 0.95
    assert firing_rate(test, latency, slower, seed=19, alternative="decrease") <= ALPHA


@pytest.mark.parametrize("test", TESTS)
def test_result_reports_method_sizes_and_effect(test):
    rng = np.random.default_rng(20)
    detector = DistributionChange(latency(rng, 3000), metric="ttft", test=test, seed=0)

    result = detector.score(1.5 * latency(rng, 1000))

    assert isinstance(result, DetectorResult)
    assert result.method == f"ttft_{test}"
    assert (result.n_ref, result.n_test, result.alpha) == (3000, 1000, ALPHA)
    assert result.drifted and result.p_value <= ALPHA
    assert math.isnan(result.threshold)
    assert result.params["median_ratio"] == pytest.approx(1.5, rel=0.1)


def test_mannwhitney_statistic_is_probability_window_exceeds_reference():
    rng = np.random.default_rng(21)
    detector = DistributionChange(latency(rng, 2000), test="mannwhitney", seed=0)

    unchanged = detector.score(latency(rng, 2000)).statistic
    slower = detector.score(1.5 * latency(rng, 2000)).statistic
    disjoint = detector.score(np.full(10, 1e9)).statistic

    assert unchanged == pytest.approx(0.5, abs=0.03)
    assert slower > 0.6
    assert disjoint == 1.0


def test_reference_is_a_read_only_copy():
    values = np.arange(10.0)
    detector = DistributionChange(values)
    values[:] = -1.0  # the caller reuses its buffer
    np.testing.assert_array_equal(detector.reference, np.arange(10.0))
    with pytest.raises(ValueError):
        detector.reference[0] = 5.0


def test_reservoir_is_bounded_and_counts_everything_offered():
    rng = np.random.default_rng(22)
    detector = DistributionChange(latency(rng, 700), reservoir_size=500, seed=0)
    detector.add_reference(latency(rng, 800))

    assert detector.reference.size == 500
    assert detector.n_reference_seen == 1500
    result = detector.score(latency(rng, 100))
    assert result.n_ref == 500
    assert result.params["n_reference_seen"] == 1500


def test_reservoir_is_a_uniform_sample_of_all_reference_values():
    # Values are their own arrival index; offered in uneven batches. Each of the 10 deciles
    # of the stream must make up 10 % of the reservoir on average over many seeds.
    stream = np.arange(1000, dtype=float)
    batches = np.split(stream, [37, 100, 101, 450, 700])
    share = np.zeros(10)
    seeds = 300
    for seed in range(seeds):
        detector = DistributionChange([], reservoir_size=100, seed=seed)
        for batch in batches:
            detector.add_reference(batch)
        kept = detector.reference
        assert np.unique(kept).size == kept.size == 100
        share += np.bincount((kept // 100).astype(int), minlength=10) / kept.size
    np.testing.assert_allclose(share / seeds, 0.1, atol=0.01)


def test_same_seed_same_reservoir_and_result():
    reference = latency(np.random.default_rng(23), 5000)
    window = latency(np.random.default_rng(24), 300)
    a = DistributionChange(reference, reservoir_size=1000, seed=7)
    b = DistributionChange(reference, reservoir_size=1000, seed=7)

    np.testing.assert_array_equal(a.reference, b.reference)
    assert a.score(window) == b.score(window)


def test_pickle_round_trip_scores_identically():
    rng = np.random.default_rng(25)
    detector = DistributionChange(latency(rng, 2000), reservoir_size=500, seed=3)
    window = latency(rng, 200)

    restored = pickle.loads(pickle.dumps(detector))

    assert restored.score(window) == detector.score(window)
    # The sampling state travels too: further reference values land in the same slots.
    more = latency(rng, 1000)
    detector.add_reference(more)
    restored.add_reference(more)
    np.testing.assert_array_equal(restored.reference, detector.reference)


def test_zero_values_are_accepted():
    # The test runs on raw values (rank tests are log-invariant), so zero tokens are fine.
    detector = DistributionChange(np.zeros(100), metric="tokens")
    result = detector.score(np.ones(50))
    assert result.drifted
    assert math.isnan(result.params["median_ratio"])


def test_empty_window_or_reference_never_fires():
    empty_ref = DistributionChange([]).score(np.ones(10))
    empty_window = DistributionChange(np.ones(10)).score([])

    for result, reason in ((empty_ref, "empty reference"), (empty_window, "empty window")):
        assert not result.drifted
        assert math.isnan(result.p_value) and math.isnan(result.statistic)
        assert result.params["skipped"] == reason


def test_reset_forgets_the_reference():
    detector = DistributionChange(np.arange(100.0))
    detector._reset()
    assert detector.reference.size == 0 and detector.n_reference_seen == 0


@pytest.mark.parametrize(
    ("settings", "name"),
    [
        ({"test": "t"}, "test"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.0}, "alpha"),
        ({"alternative": "up"}, "alternative"),
        ({"reservoir_size": 0}, "reservoir_size"),
        ({"seed": -1}, "seed"),
        ({"metric": ""}, "metric"),
    ],
)
def test_settings_are_validated(settings, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        DistributionChange(np.ones(10), **settings)


def test_non_finite_values_are_rejected():
    with pytest.raises(ValueError, match=r"^reference\b"):
        DistributionChange([1.0, math.nan])
    with pytest.raises(ValueError, match=r"^reference\b"):
        DistributionChange(np.ones((10, 2)))
    with pytest.raises(ValueError, match=r"^values\b"):
        DistributionChange([]).add_reference([math.inf])
    with pytest.raises(ValueError, match=r"^x\b"):
        DistributionChange(np.ones(10)).score([1.0, math.inf])
