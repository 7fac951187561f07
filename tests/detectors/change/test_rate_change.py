"""RateChange: level on unchanged rates, power on a real rise, thresholds, rules, contract."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from scipy import stats

from detectors.change.rate_change import RateChange
from detectors.result import DetectorResult

ALPHA = 0.05
TRIALS = 500
REF_TRIALS, WINDOW_TRIALS = 20_000, 1000
BASE_RATE = 0.01
TESTS = ["binomial", "wilson", "fisher"]


def firing_rate(test: str, window_rate: float, seed: int, **settings: object) -> float:
    """Fraction of independent (reference, window) count pairs that fire, reference at 1 %."""
    rng = np.random.default_rng(seed)
    fired = 0
    for _ in range(TRIALS):
        reference = int(rng.binomial(REF_TRIALS, BASE_RATE))
        detector = RateChange(reference, REF_TRIALS, test=test, alpha=ALPHA, **settings)
        window = int(rng.binomial(WINDOW_TRIALS, window_rate))
        fired += detector.score(window, WINDOW_TRIALS).drifted
    return fired / TRIALS


@pytest.mark.parametrize("test", ["binomial", "fisher"])
def test_exact_tests_alarm_at_most_alpha_on_unchanged_rate(test):
    # Discrete, hence conservative: may be well below alpha, never meaningfully above.
    assert firing_rate(test, BASE_RATE, seed=31) <= ALPHA + 0.03


def test_wilson_alarm_rate_on_unchanged_rate_is_about_alpha():
    assert 0.02 <= firing_rate("wilson", BASE_RATE, seed=32) <= 0.08


@pytest.mark.parametrize("n", [50, 300])
@pytest.mark.parametrize("p0", [0.001, 0.01, 0.2])
def test_binomial_size_never_exceeds_alpha_for_a_known_rate(n, p0):
    # Exact level, no simulation: sum P(k) over every window count k that fires.
    detector = RateChange(round(p0 * 100_000), 100_000)
    counts = np.arange(n + 1)
    fires = np.array([detector.score(int(k), n).drifted for k in counts])
    assert stats.binom.pmf(counts, n, p0)[fires].sum() <= ALPHA


@pytest.mark.parametrize("test", TESTS)
def test_detects_error_rate_rising_from_one_to_five_percent(test):
    assert firing_rate(test, 0.05, seed=33) >= 0.95


@pytest.mark.parametrize(
    ("test", "alternative"),
    [
        ("binomial", "increase"),
        ("binomial", "decrease"),
        ("wilson", "increase"),
        ("wilson", "decrease"),
    ],
)
def test_threshold_is_the_critical_rate_of_the_test(test, alternative):
    detector = RateChange(500, 10_000, test=test, alternative=alternative)
    n = 200
    results = [detector.score(k, n) for k in range(n + 1)]

    threshold = results[0].threshold
    assert all(r.threshold == threshold for r in results)
    for r in results:
        beyond = r.statistic > threshold if alternative == "increase" else r.statistic < threshold
        assert r.drifted == beyond, r.statistic
    assert any(r.drifted for r in results) and not all(r.drifted for r in results)


@pytest.mark.parametrize("test", TESTS)
def test_alternatives_pick_the_direction(test):
    rising = dict(successes=60, trials=1000)
    falling = dict(successes=0, trials=1000)

    increase = RateChange(200, 20_000, test=test)
    decrease = RateChange(200, 20_000, test=test, alternative="decrease")
    two_sided = RateChange(200, 20_000, test=test, alternative="two-sided")

    assert increase.score(**rising).drifted and not increase.score(**falling).drifted
    assert decrease.score(**falling).drifted and not decrease.score(**rising).drifted
    assert two_sided.score(**rising).drifted and two_sided.score(**falling).drifted


@pytest.mark.parametrize(
    ("successes", "max_rate", "rule"),
    [
        (50, None, "test"),  # 5 % against a 1 % reference
        (12, 0.011, "threshold"),  # 1.2 %: not significant, but above the configured ceiling
        (50, 0.03, "both"),
        (12, 0.02, "none"),
    ],
)
def test_result_says_which_rule_fired(successes, max_rate, rule):
    detector = RateChange(100, 10_000, metric="refusal_rate", max_rate=max_rate)

    result = detector.score(successes, 1000)

    assert result.params["rule"] == rule
    assert result.drifted == (rule != "none")
    assert (result.p_value <= ALPHA) == (rule in ("test", "both"))


def test_result_carries_rate_counts_and_reference():
    result = RateChange(100, 10_000, metric="pii_rate", test="wilson").score(30, 1000)

    assert isinstance(result, DetectorResult)
    assert result.method == "pii_rate_wilson"
    assert result.statistic == 0.03
    assert (result.n_ref, result.n_test, result.alpha) == (10_000, 1000, ALPHA)
    assert result.params["reference_rate"] == 0.01
    assert (result.params["ref_successes"], result.params["ref_trials"]) == (100, 10_000)
    assert (result.params["successes"], result.params["trials"]) == (30, 1000)
    assert result.params["max_rate"] is None


def test_fisher_allows_for_a_small_reference():
    # 0 errors in 100 reference calls says little: one error in 1000 calls is no change.
    # The known-rate tests take the reference rate 0 at face value and fire; Fisher does not.
    assert RateChange(0, 100, test="binomial").score(1, 1000).drifted
    assert RateChange(0, 100, test="wilson").score(1, 1000).drifted
    assert not RateChange(0, 100, test="fisher").score(1, 1000).drifted
    assert math.isnan(RateChange(0, 100, test="fisher").score(1, 1000).threshold)


def test_without_reference_only_the_threshold_rule_can_fire():
    detector = RateChange(max_rate=0.02)

    quiet, loud = detector.score(10, 1000), detector.score(30, 1000)

    assert math.isnan(quiet.p_value) and not quiet.drifted
    assert loud.drifted and loud.params["rule"] == "threshold"


def test_empty_window_fires_nothing():
    result = RateChange(100, 10_000, max_rate=0.0).score(0, 0)
    assert not result.drifted and result.params["rule"] == "none"
    assert math.isnan(result.statistic)


def test_reference_accumulates_and_resets():
    detector = RateChange(10, 1000)
    detector.add_reference(30, 1000)
    assert detector.reference_rate == 0.02
    assert detector.score(20, 1000).n_ref == 2000

    detector._reset()
    assert math.isnan(detector.reference_rate)


def test_pickle_round_trip_scores_identically():
    detector = RateChange(100, 10_000, test="wilson", max_rate=0.03)
    restored = pickle.loads(pickle.dumps(detector))
    assert restored.score(25, 1000) == detector.score(25, 1000)


@pytest.mark.parametrize(
    ("settings", "name"),
    [
        ({"test": "chi2"}, "test"),
        ({"alpha": 0.0}, "alpha"),
        ({"alternative": "up"}, "alternative"),
        ({"max_rate": 1.5}, "max_rate"),
        ({"max_rate": True}, "max_rate"),
        ({"metric": ""}, "metric"),
        ({"successes": 11, "trials": 10}, "successes"),
        ({"successes": -1, "trials": 10}, "successes"),
        ({"successes": 1, "trials": 2.5}, "trials"),
    ],
)
def test_settings_and_counts_are_validated(settings, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        RateChange(**settings)


def test_window_counts_are_validated():
    with pytest.raises(ValueError, match=r"^successes\b"):
        RateChange(1, 10).score(5, 4)
