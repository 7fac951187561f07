"""CentroidDrift: the distances, the two-sided bootstrap null, and real-embedding behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import distance

from detectors import CentroidDrift
from tests.support.embedding_pool import draw_no_shift, draw_with_drift, rejection_rate

METRICS = ["euclidean", "cosine"]


@pytest.mark.parametrize("metric", METRICS)
def test_statistic_is_the_distance_between_centroids(metric: str) -> None:
    rng = np.random.default_rng(1)
    reference, window = rng.normal(1.0, 1.0, size=(40, 6)), rng.normal(1.2, 1.0, size=(25, 6))
    result = CentroidDrift(reference, metric=metric, n_bootstrap=99).score(window)
    scipy_distance = getattr(distance, metric)
    expected = scipy_distance(reference.mean(axis=0), window.mean(axis=0))
    assert result.statistic == pytest.approx(expected, rel=1e-12)
    assert result.method == f"centroid_{metric}"
    assert result.params["metric"] == metric


@pytest.mark.parametrize("metric", METRICS)
def test_window_equal_to_the_reference_gets_p_one(metric: str) -> None:
    reference = np.random.default_rng(2).normal(1.0, 1.0, size=(50, 4))
    result = CentroidDrift(reference, metric=metric, n_bootstrap=199).score(reference)
    assert result.p_value == 1.0
    assert not result.drifted


@pytest.mark.parametrize("metric", METRICS)
def test_clear_shift_gets_the_smallest_p_value(metric: str) -> None:
    rng = np.random.default_rng(3)
    detector = CentroidDrift(rng.normal(1.0, 1.0, size=(80, 4)), metric=metric, n_bootstrap=199)
    result = detector.score(rng.normal(1.0, 1.0, size=(80, 4)) + np.array([2.0, -2.0, 0, 0]))
    assert result.p_value == 1 / 200
    assert result.drifted and result.statistic > result.threshold


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize(("n_ref", "n_test"), [(100, 100), (200, 50)])
def test_false_alarm_rate_on_gaussians_is_near_alpha(metric: str, n_ref: int, n_test: int) -> None:
    """Low-dimensional data, where the bootstrap is accurate: the rate is close to alpha.

    The reference-only null (window centroid vs. fixed reference centroid) would alarm on
    about a third of these windows when n_ref = n_test; resampling both sides keeps it at alpha.
    """
    rng = np.random.default_rng(4)
    mean = np.array([1.0, 0.5, -0.5, 0.2, 0.0])
    draws = [
        (rng.normal(mean, 1.0, size=(n_ref, 5)), rng.normal(mean, 1.0, size=(n_test, 5)))
        for _ in range(400)
    ]
    rate = rejection_rate(lambda ref, trial: CentroidDrift(ref, metric=metric, seed=trial), draws)
    assert 0.02 <= rate <= 0.08, rate


def test_cosine_does_not_alarm_when_the_mean_is_small_next_to_the_noise() -> None:
    """The reference centroid overstates the mean's length; the null is re-centred for it."""
    rng = np.random.default_rng(5)
    mean = np.full(50, 0.02)  # ||mean||² = 0.02 vs. sampling noise tr(Sigma)/n = 0.5
    draws = [
        (rng.normal(mean, 1.0, size=(100, 50)), rng.normal(mean, 1.0, size=(100, 50)))
        for _ in range(200)
    ]
    rate = rejection_rate(lambda ref, trial: CentroidDrift(ref, metric="cosine", seed=trial), draws)
    assert rate <= 0.08, rate


def test_null_depends_on_window_size_not_on_arrival_order() -> None:
    rng = np.random.default_rng(6)
    reference = rng.normal(size=(60, 4))
    small, large = rng.normal(size=(10, 4)), rng.normal(size=(50, 4))
    first = CentroidDrift(reference, n_bootstrap=99)
    second = CentroidDrift(reference, n_bootstrap=99)
    small_first, large_first = first.score(small), first.score(large)
    large_second, small_second = second.score(large), second.score(small)
    assert (small_first, large_first) == (small_second, large_second)
    # a larger window has a less noisy centroid, so a smaller distance already counts
    assert large_first.threshold < small_first.threshold
    # windows of one size share one null: same threshold for another window of that size
    assert first.score(rng.normal(size=(10, 4))).threshold == small_first.threshold


def test_null_cache_is_bounded() -> None:
    rng = np.random.default_rng(7)
    detector = CentroidDrift(rng.normal(size=(30, 3)), n_bootstrap=99, cache_size=2)
    for m in (5, 6, 7, 8):
        detector.score(rng.normal(size=(m, 3)))
    assert len(detector._null_cache) == 2


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"metric": "manhattan"}, "metric"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": True}, "alpha"),
        ({"n_bootstrap": 0}, "n_bootstrap"),
        ({"n_bootstrap": 18}, "n_bootstrap"),  # 1/19 > 0.05: could never reject
        ({"seed": -3}, "seed"),
        ({"cache_size": -1}, "cache_size"),
    ],
)
def test_invalid_settings_name_the_argument(kwargs: dict, argument: str) -> None:
    reference = np.random.default_rng(8).normal(size=(20, 3))
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        CentroidDrift(reference, **kwargs)


def test_cosine_needs_nonzero_centroids() -> None:
    symmetric = np.array([[1.0, 0.0], [-1.0, 0.0]])
    with pytest.raises(ValueError, match=r"^reference\b"):
        CentroidDrift(symmetric, metric="cosine")
    detector = CentroidDrift(np.array([[1.0, 1.0], [2.0, 1.0]]), metric="cosine")
    with pytest.raises(ValueError, match=r"^x\b"):
        detector.score(symmetric)


@pytest.mark.parametrize("window", [np.zeros((5, 4)), np.zeros((0, 3)), np.array([[np.nan] * 3])])
def test_invalid_window_is_named(window: np.ndarray) -> None:
    detector = CentroidDrift(np.random.default_rng(9).normal(size=(20, 3)), n_bootstrap=99)
    with pytest.raises(ValueError, match=r"^x\b"):
        detector.score(window)


# --- real embeddings of generated traffic -------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
def test_false_alarm_rate_on_unchanged_traffic(embedding_pool, record_property, metric) -> None:
    rng = np.random.default_rng(10)
    draws = [draw_no_shift(embedding_pool, rng, 200, 200) for _ in range(400)]
    rate = rejection_rate(lambda ref, trial: CentroidDrift(ref, metric=metric, seed=trial), draws)
    record_property(f"centroid_{metric}_false_alarm_rate", rate)
    assert 0.02 <= rate <= 0.08, rate


@pytest.mark.parametrize("metric", METRICS)
def test_power_when_30_percent_of_the_window_is_a_new_topic(
    embedding_pool, record_property, metric
) -> None:
    rng = np.random.default_rng(11)
    draws = [draw_with_drift(embedding_pool, rng, 200, 200, 0.3) for _ in range(200)]
    rate = rejection_rate(lambda ref, trial: CentroidDrift(ref, metric=metric, seed=trial), draws)
    record_property(f"centroid_{metric}_power", rate)
    assert rate >= 0.95, rate
