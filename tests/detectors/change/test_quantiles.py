"""QuantileSketch: accuracy against exact quantiles, merge, and storage round trips."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest

from detectors.change.quantiles import DEFAULT_QUANTILES, QuantileSketch, quantile_label

ACCURACY = 0.01


def lognormal_latencies(seed: int, n: int, median_ms: float = 800.0) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(np.log(median_ms), 0.8, n)


def sketch_of(values: np.ndarray) -> QuantileSketch:
    sketch = QuantileSketch(ACCURACY)
    sketch.update(values)
    return sketch


def assert_within_accuracy(sketch: QuantileSketch, values: np.ndarray) -> None:
    # DDSketch's guarantee is relative to the order statistic at rank floor(q (n - 1)),
    # which is numpy's "lower" method.
    for q in DEFAULT_QUANTILES:
        exact = np.quantile(values, q, method="lower")
        assert abs(sketch.quantile(q) / exact - 1.0) <= ACCURACY, q


def test_quantiles_within_one_percent_of_exact_on_100k_latencies():
    values = lognormal_latencies(seed=1, n=100_000)
    sketch = sketch_of(values)

    assert_within_accuracy(sketch, values)
    # Against numpy's default (interpolated) quantiles too: at n = 100k they differ by far less
    # than the sketch's error.
    for q in DEFAULT_QUANTILES:
        assert abs(sketch.quantile(q) / np.quantile(values, q) - 1.0) <= ACCURACY
    assert sketch.count == values.size
    assert sketch.sum == pytest.approx(values.sum(), rel=1e-12)
    assert sketch.min == values.min() and sketch.max == values.max()


def test_quantiles_dict_has_the_reported_labels():
    sketch = sketch_of(lognormal_latencies(seed=2, n=1000))

    quantiles = sketch.quantiles()

    assert list(quantiles) == ["p50", "p90", "p95", "p99"]
    assert quantiles["p95"] == sketch.quantile(0.95)
    assert quantile_label(0.999) == "p99.9"


def test_merge_equals_sketch_of_union():
    # Two windows with different distributions, so the merge really has to combine shapes.
    a = lognormal_latencies(seed=3, n=60_000, median_ms=500.0)
    b = lognormal_latencies(seed=4, n=40_000, median_ms=2000.0)
    union = np.concatenate([a, b])

    merged = sketch_of(a)
    merged.merge(sketch_of(b))

    assert_within_accuracy(merged, union)
    # Merging adds bin counts, so nothing is lost: same quantiles as one sketch of the union.
    assert merged.quantiles() == sketch_of(union).quantiles()
    assert merged.count == union.size
    assert merged.sum == pytest.approx(union.sum(), rel=1e-12)
    assert (merged.min, merged.max) == (union.min(), union.max())


def test_merge_into_empty_sketch_and_of_empty_sketch():
    values = lognormal_latencies(seed=5, n=1000)
    empty = QuantileSketch(ACCURACY)
    empty.merge(sketch_of(values))
    full = sketch_of(values)
    full.merge(QuantileSketch(ACCURACY))

    for sketch in (empty, full):
        assert sketch.count == values.size
        assert_within_accuracy(sketch, values)


def test_merge_refuses_a_different_accuracy():
    with pytest.raises(ValueError, match="relative_accuracy"):
        QuantileSketch(0.01).merge(QuantileSketch(0.02))


@pytest.mark.parametrize(
    "round_trip",
    [
        pytest.param(lambda s: QuantileSketch.from_bytes(s.to_bytes()), id="bytes"),
        # A Faust table with the json codec stores exactly this.
        pytest.param(
            lambda s: QuantileSketch.from_dict(json.loads(json.dumps(s.to_dict()))), id="json-dict"
        ),
        pytest.param(lambda s: pickle.loads(pickle.dumps(s)), id="pickle"),
    ],
)
def test_storage_round_trip_preserves_quantiles_and_count(round_trip):
    values = lognormal_latencies(seed=6, n=20_000)
    sketch = sketch_of(values)

    restored = round_trip(sketch)

    assert restored.count == sketch.count
    assert restored.sum == sketch.sum
    assert (restored.min, restored.max) == (sketch.min, sketch.max)
    assert restored.quantiles() == sketch.quantiles()
    assert restored.relative_accuracy == sketch.relative_accuracy


def test_restored_sketch_keeps_working():
    first, second = lognormal_latencies(seed=7, n=5000), lognormal_latencies(seed=8, n=5000)
    restored = QuantileSketch.from_bytes(sketch_of(first).to_bytes())

    restored.update(second[:2500])
    restored.merge(sketch_of(second[2500:]))

    assert restored.count == 10_000
    assert_within_accuracy(restored, np.concatenate([first, second]))


def test_round_trip_keeps_zero_and_negative_values():
    values = np.array([-5.0, -1.0, 0.0, 0.0, 0.0, 2.0, 7.0])
    restored = QuantileSketch.from_bytes(sketch_of(values).to_bytes())

    assert restored.count == values.size
    assert restored.quantile(0.5) == 0.0
    assert restored.quantile(0.0) == pytest.approx(-5.0, rel=ACCURACY)
    assert restored.quantile(1.0) == pytest.approx(7.0, rel=ACCURACY)


def test_empty_sketch_round_trips_as_json_and_reports_nan():
    restored = QuantileSketch.from_dict(json.loads(json.dumps(QuantileSketch().to_dict())))

    assert restored.count == 0 and restored.sum == 0.0
    assert all(math.isnan(v) for v in restored.quantiles().values())
    assert math.isnan(restored.mean) and math.isnan(restored.min)


def test_serialised_size_does_not_grow_with_the_number_of_values():
    small = len(sketch_of(lognormal_latencies(seed=9, n=1_000)).to_bytes())
    large = len(sketch_of(lognormal_latencies(seed=9, n=100_000)).to_bytes())

    # Bins cover the value range, not the values: 100x more values, barely more bytes.
    assert large < 2 * small


def test_from_dict_rejects_foreign_or_inconsistent_state():
    state = sketch_of(lognormal_latencies(seed=10, n=100)).to_dict()

    with pytest.raises(ValueError, match="version"):
        QuantileSketch.from_dict({**state, "version": 99})
    with pytest.raises(ValueError, match="count"):
        QuantileSketch.from_dict({**state, "count": 101.0})
    with pytest.raises(ValueError, match="QuantileSketch"):
        QuantileSketch.from_dict({k: v for k, v in state.items() if k != "positive"})
    with pytest.raises(ValueError, match="not a serialised"):
        QuantileSketch.from_bytes(b"\xc1garbage")


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, True, "0.01"])
def test_relative_accuracy_is_validated(bad):
    with pytest.raises(ValueError, match=r"^relative_accuracy\b"):
        QuantileSketch(bad)


def test_non_finite_values_and_bad_levels_are_rejected():
    sketch = QuantileSketch()
    with pytest.raises(ValueError, match=r"^value\b"):
        sketch.add(math.nan)
    with pytest.raises(ValueError, match=r"^values\b"):
        sketch.update([1.0, math.inf])
    assert sketch.count == 0  # a rejected batch adds nothing
    with pytest.raises(ValueError, match=r"^q\b"):
        sketch.quantile(1.5)
