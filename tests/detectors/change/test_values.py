"""The helpers the change tests share: checked values, quantile labels, the decision rule."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import detectors.change._values as values_module
from detectors.change._values import decided, finite_values, quantile_label


def test_quantile_labels_are_column_names() -> None:
    assert [quantile_label(q) for q in (0.5, 0.9, 0.95, 0.99)] == ["p50", "p90", "p95", "p99"]
    assert quantile_label(0.999) == "p99.9"


def test_finite_values_name_the_argument() -> None:
    np.testing.assert_array_equal(finite_values("values", [1, 2.5]), [1.0, 2.5])
    with pytest.raises(ValueError, match=r"^values\b"):
        finite_values("values", [1.0, math.inf])
    with pytest.raises(ValueError, match=r"^values\b"):
        finite_values("values", [[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"^values\b"):
        finite_values("values", ["a"])


@pytest.mark.parametrize(
    ("settings", "drifted"),
    [
        ({"p_value": 0.01, "alpha": 0.05}, True),
        ({"p_value": 0.05, "alpha": 0.05}, True),
        ({"p_value": 0.2, "alpha": 0.05}, False),
        ({"threshold": 1.0}, True),  # statistic 2.0 above the objective
        ({"threshold": 2.0}, False),  # at the objective is within it
        ({}, False),  # nothing to decide on: never an alarm
    ],
)
def test_decision_is_p_value_or_threshold(settings: dict, drifted: bool) -> None:
    result = decided("m", 2.0, n_ref=3, n_test=4, params={}, **settings)
    assert result.drifted is drifted
    assert (result.method, result.n_ref, result.n_test) == ("m", 3, 4)


def test_nan_statistic_never_fires() -> None:
    assert not decided("m", math.nan, threshold=1.0, n_ref=0, n_test=0, params={}).drifted


def test_docstring_examples_run() -> None:
    results = doctest.testmod(values_module)
    assert results.attempted > 0 and results.failed == 0
