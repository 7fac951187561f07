"""Conventions every two-sample detector must follow: the registered drift tests and the
exported classes.

The walk is data-driven. Every entry of :data:`detectors.registry.DRIFT_TESTS` is built the
way the window job builds it (the uniform factory signature) and must name its results by its
entry; every class in ``detectors.__all__`` with a ``score`` method and a ``reference``
property is tested too. If an exported class needs keyword arguments to be built quickly, or
another kind of data than rows of embeddings (say 1-D latencies), add a :class:`Recipe` for it
to ``RECIPES``.
"""

from __future__ import annotations

import doctest
import inspect
import json
import math
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pytest
from scipy import stats

import detectors
from detectors import DetectorResult
from detectors.registry import DRIFT_TESTS, DriftFactory

Samples = tuple[np.ndarray, np.ndarray, np.ndarray]


def embedding_like_samples(seed: int) -> Samples:
    """(reference, window without change, clearly shifted window), rows of 6 features."""
    rng = np.random.default_rng(seed)
    reference = rng.normal(1.0, 1.0, size=(80, 6))
    same = rng.normal(1.0, 1.0, size=(40, 6))
    shifted = rng.normal(1.0, 1.0, size=(40, 6)) + 1.5
    return reference, same, shifted


def turned_samples(seed: int) -> Samples:
    """Like :func:`embedding_like_samples`, but the change turns the mean, not only moves it
    along itself, so a test of direction (cosine between centroids) sees it too."""
    rng = np.random.default_rng(seed)
    reference = rng.normal(1.0, 1.0, size=(80, 6))
    same = rng.normal(1.0, 1.0, size=(40, 6))
    shifted = rng.normal(1.0, 1.0, size=(40, 6)) + np.array([1.5, -1.5] * 3)
    return reference, same, shifted


def latency_like_samples(seed: int) -> Samples:
    """(reference, window without change, window twice as slow), 1-D log-normal values."""
    rng = np.random.default_rng(seed)
    return (
        rng.lognormal(6.0, 0.8, size=400),
        rng.lognormal(6.0, 0.8, size=200),
        2.0 * rng.lognormal(6.0, 0.8, size=200),
    )


@dataclass(frozen=True)
class Recipe:
    """How the walk builds and feeds one detector class."""

    kwargs: dict = field(default_factory=dict)  # besides the reference, to build it cheaply
    samples: Callable[[int], Samples] = embedding_like_samples


RECIPES: dict[str, Recipe] = {
    "MMDDrift": Recipe({"n_permutations": 99}),
    "CentroidDrift": Recipe({"n_bootstrap": 99}),
    "ClusterShareDrift": Recipe({"n_permutations": 99}),
    "DistributionChange": Recipe({"seed": 0}, latency_like_samples),
}


def _is_two_sample_detector(obj: object) -> bool:
    return (
        inspect.isclass(obj)
        and callable(getattr(obj, "score", None))
        and isinstance(getattr(obj, "reference", None), property)
    )


TWO_SAMPLE = [
    getattr(detectors, name)
    for name in detectors.__all__
    if _is_two_sample_detector(getattr(detectors, name))
]


@dataclass(frozen=True)
class Case:
    """One detector the walk checks: an exported class, or an entry of the drift registry."""

    id: str
    build: Callable[..., Any]  # build(reference, **overrides) -> detector
    samples: Callable[[int], Samples]
    method: str | None = None  # the result's method, where the case fixes it (registry names)


def _class_case(cls: type) -> Case:
    recipe = RECIPES.get(cls.__name__, Recipe())
    return Case(cls.__name__, partial(_with_recipe, cls, recipe.kwargs), recipe.samples)


def _with_recipe(cls: type, kwargs: dict, reference: np.ndarray, **overrides: Any) -> Any:
    return cls(reference, **{**kwargs, **overrides})


def _registry_case(name: str, factory: DriftFactory) -> Case:
    return Case(f"registry:{name}", partial(_from_registry, factory), turned_samples, name)


def _from_registry(
    factory: DriftFactory, reference: np.ndarray, *, alpha: float = 0.05, seed: int | None = 0
) -> Any:
    # The window job's call, with a small resample count so the walk stays quick.
    return factory(reference, alpha=alpha, n_resamples=99, seed=seed)


CASES = [
    *(_class_case(cls) for cls in TWO_SAMPLE),
    *(_registry_case(name, factory) for name, factory in DRIFT_TESTS.items()),
]
walk = pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)


def test_walk_finds_the_two_sample_detectors() -> None:
    names = {cls.__name__ for cls in TWO_SAMPLE}
    assert {"MMDDrift", "CentroidDrift"} <= names
    assert set(RECIPES) <= set(detectors.__all__), "RECIPES names an unexported class"


def test_walk_finds_every_registered_drift_test() -> None:
    registered = {case.method for case in CASES if case.id.startswith("registry:")}
    assert registered == set(DRIFT_TESTS)
    assert {"mmd", "centroid_cosine"} <= registered  # the rows the window job writes today


def test_all_lists_only_importable_names() -> None:
    for name in detectors.__all__:
        assert hasattr(detectors, name), name
    assert "DetectorResult" in detectors.__all__


@walk
def test_score_returns_a_complete_result(case: Case) -> None:
    reference, same, shifted = case.samples(0)
    detector = case.build(reference, alpha=0.05)
    quiet, loud = detector.score(same), detector.score(shifted)
    for result, window in ((quiet, same), (loud, shifted)):
        assert type(result) is DetectorResult
        assert isinstance(result.method, str) and result.method
        assert math.isfinite(result.statistic)
        assert 0.0 < result.p_value <= 1.0
        assert result.n_ref == len(reference) and result.n_test == len(window)
        assert result.alpha == 0.05
        assert result.drifted == (result.p_value <= result.alpha)
        json.dumps(result.params)  # storable as-is: plain values only
    assert not quiet.drifted and loud.drifted
    assert quiet.method == loud.method
    if case.method is not None:  # a registry entry is named by the method its rows carry
        assert quiet.method == case.method


@walk
def test_false_alarm_rate_on_no_change_windows(case: Case) -> None:
    # 40 (reference, window) pairs drawn alike, at alpha = 0.1: about 4 alarms are due, and
    # more than the binomial's 0.999 quantile (11) says the test does not hold its level. A
    # fresh reference per trial: alpha is the rate over references too, and one fixed
    # 80-row reference can sit far enough off to alarm on a third of the windows.
    alpha, trials = 0.1, 40
    alarms = 0
    for seed in range(trials):
        reference, same, _ = case.samples(100 + seed)
        alarms += case.build(reference, alpha=alpha).score(same).drifted
    assert alarms <= stats.binom.ppf(0.999, trials, alpha)


@walk
def test_pickle_round_trip_gives_the_same_result(case: Case) -> None:
    reference, same, shifted = case.samples(1)
    detector = case.build(reference)
    before = detector.score(shifted)  # fills any cache first, so the pickle would carry it
    restored = pickle.loads(pickle.dumps(detector))
    assert restored.score(shifted) == before
    assert restored.score(same) == detector.score(same)
    np.testing.assert_array_equal(restored.reference, reference)


@walk
def test_pickle_carries_settings_and_reference_not_caches(case: Case) -> None:
    reference, same, shifted = case.samples(2)
    detector = case.build(reference)
    detector.score(same)
    detector.score(shifted)
    assert len(pickle.dumps(detector)) < reference.nbytes + 4096


@walk
def test_reference_is_a_read_only_copy(case: Case) -> None:
    reference, _, shifted = case.samples(3)
    original = reference.copy()
    detector = case.build(reference)
    before = detector.score(shifted)
    reference += 10.0  # the caller reuses its buffer
    assert detector.score(shifted) == before
    np.testing.assert_array_equal(detector.reference, original)
    with pytest.raises(ValueError):
        detector.reference[0, 0] = 0.0


@walk
def test_seeded_detectors_are_reproducible(case: Case) -> None:
    reference, _, shifted = case.samples(4)
    window = shifted - 1.3  # a borderline window, where resampling noise would show
    first = case.build(reference, seed=5).score(window)
    second = case.build(reference, seed=5).score(window)
    assert first == second


@walk
@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"alpha": 0.0}, "alpha"), ({"alpha": 1.0}, "alpha"), ({"seed": -1}, "seed")],
)
def test_invalid_common_settings_name_the_argument(case: Case, kwargs: dict, argument: str) -> None:
    reference, _, _ = case.samples(0)
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        case.build(reference, **kwargs)


@walk
def test_non_finite_reference_and_window_are_named(case: Case) -> None:
    reference, same, _ = case.samples(0)
    broken_reference, broken_window = reference.copy(), same.copy()
    broken_reference.flat[0], broken_window.flat[-1] = np.nan, np.inf
    with pytest.raises(ValueError, match=r"^reference\b"):
        case.build(broken_reference)
    detector = case.build(reference)
    with pytest.raises(ValueError, match=r"^x\b"):
        detector.score(broken_window)


@walk
def test_docstring_examples_run(case: Case) -> None:
    reference, _, _ = case.samples(0)
    module = sys.modules[type(case.build(reference)).__module__]
    results = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert results.attempted > 0, f"{module.__name__} has no seeded example"
    assert results.failed == 0
