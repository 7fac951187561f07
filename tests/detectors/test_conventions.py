"""Conventions every two-sample drift detector exported from ``detectors`` must follow.

The walk is data-driven: every class in ``detectors.__all__`` with a ``score`` method and a
``reference`` property is tested here automatically. If your detector needs keyword
arguments to be built quickly, or another kind of data than rows of embeddings (say 1-D
latencies), add a :class:`Recipe` for it to ``RECIPES``.
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

import numpy as np
import pytest

import detectors
from detectors import DetectorResult

Samples = tuple[np.ndarray, np.ndarray, np.ndarray]


def embedding_like_samples(seed: int) -> Samples:
    """(reference, window without change, clearly shifted window), rows of 6 features."""
    rng = np.random.default_rng(seed)
    reference = rng.normal(1.0, 1.0, size=(80, 6))
    same = rng.normal(1.0, 1.0, size=(40, 6))
    shifted = rng.normal(1.0, 1.0, size=(40, 6)) + 1.5
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


def _recipe(cls: type) -> Recipe:
    return RECIPES.get(cls.__name__, Recipe())


def _build(cls: type, reference: np.ndarray, **overrides):
    return cls(reference, **{**_recipe(cls).kwargs, **overrides})


def _samples(cls: type, seed: int = 0) -> Samples:
    return _recipe(cls).samples(seed)


def test_walk_finds_the_two_sample_detectors() -> None:
    names = {cls.__name__ for cls in TWO_SAMPLE}
    assert {"MMDDrift", "CentroidDrift"} <= names
    assert set(RECIPES) <= set(detectors.__all__), "RECIPES names an unexported class"


def test_all_lists_only_importable_names() -> None:
    for name in detectors.__all__:
        assert hasattr(detectors, name), name
    assert "DetectorResult" in detectors.__all__


@pytest.mark.parametrize("cls", TWO_SAMPLE, ids=lambda cls: cls.__name__)
def test_score_returns_a_complete_result(cls: type) -> None:
    reference, same, shifted = _samples(cls)
    detector = _build(cls, reference, alpha=0.05)
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


@pytest.mark.parametrize("cls", TWO_SAMPLE, ids=lambda cls: cls.__name__)
def test_pickle_round_trip_gives_the_same_result(cls: type) -> None:
    reference, same, shifted = _samples(cls, 1)
    detector = _build(cls, reference)
    before = detector.score(shifted)  # fills any cache first, so the pickle would carry it
    restored = pickle.loads(pickle.dumps(detector))
    assert restored.score(shifted) == before
    assert restored.score(same) == detector.score(same)
    np.testing.assert_array_equal(restored.reference, reference)


@pytest.mark.parametrize("cls", TWO_SAMPLE, ids=lambda cls: cls.__name__)
def test_pickle_carries_settings_and_reference_not_caches(cls: type) -> None:
    reference, same, shifted = _samples(cls, 2)
    detector = _build(cls, reference)
    detector.score(same)
    detector.score(shifted)
    assert len(pickle.dumps(detector)) < reference.nbytes + 4096


@pytest.mark.parametrize("cls", TWO_SAMPLE, ids=lambda cls: cls.__name__)
def test_reference_is_a_read_only_copy(cls: type) -> None:
    reference, _, shifted = _samples(cls, 3)
    original = reference.copy()
    detector = _build(cls, reference)
    before = detector.score(shifted)
    reference += 10.0  # the caller reuses its buffer
    assert detector.score(shifted) == before
    np.testing.assert_array_equal(detector.reference, original)
    with pytest.raises(ValueError):
        detector.reference[0, 0] = 0.0


@pytest.mark.parametrize("cls", TWO_SAMPLE, ids=lambda cls: cls.__name__)
def test_seeded_detectors_are_reproducible(cls: type) -> None:
    reference, _, shifted = _samples(cls, 4)
    window = shifted - 1.3  # a borderline window, where resampling noise would show
    first = _build(cls, reference, seed=5).score(window)
    second = _build(cls, reference, seed=5).score(window)
    assert first == second


@pytest.mark.parametrize("cls", TWO_SAMPLE, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"alpha": 0.0}, "alpha"), ({"alpha": 1.0}, "alpha"), ({"seed": -1}, "seed")],
)
def test_invalid_common_settings_name_the_argument(cls: type, kwargs: dict, argument: str) -> None:
    reference, _, _ = _samples(cls)
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        _build(cls, reference, **kwargs)


@pytest.mark.parametrize("cls", TWO_SAMPLE, ids=lambda cls: cls.__name__)
def test_non_finite_reference_and_window_are_named(cls: type) -> None:
    reference, same, _ = _samples(cls)
    broken_reference, broken_window = reference.copy(), same.copy()
    broken_reference.flat[0], broken_window.flat[-1] = np.nan, np.inf
    with pytest.raises(ValueError, match=r"^reference\b"):
        _build(cls, broken_reference)
    detector = _build(cls, reference)
    with pytest.raises(ValueError, match=r"^x\b"):
        detector.score(broken_window)


@pytest.mark.parametrize("cls", TWO_SAMPLE, ids=lambda cls: cls.__name__)
def test_docstring_examples_run(cls: type) -> None:
    module = sys.modules[cls.__module__]
    results = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert results.attempted > 0, f"{module.__name__} has no seeded example"
    assert results.failed == 0
