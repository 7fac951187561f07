"""SLOCheck: fires exactly when the window's quantile exceeds the objective."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from detectors.change.slo import SLOCheck
from detectors.result import DetectorResult


def windows(seed: int, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.lognormal(np.log(800.0), 0.8, rng.integers(1, 500)) for _ in range(count)]


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
def test_fires_exactly_when_the_quantile_exceeds_the_objective(q):
    for values in windows(seed=41, count=50):
        exact = float(np.quantile(values, q))
        # Objectives just below, at and just above the window's quantile, and far from it.
        for max_value in (np.nextafter(exact, 0.0), exact, np.nextafter(exact, np.inf), 1.0, 1e6):
            result = SLOCheck(max_value, quantile=q).score(values)
            assert result.statistic == exact
            assert result.drifted == (exact > max_value)


def test_breach_of_p95_latency_objective_is_reported():
    rng = np.random.default_rng(43)
    healthy = rng.lognormal(np.log(800.0), 0.5, 1000)  # p95 ~ 1.8 s
    degraded = 2.0 * healthy  # p95 ~ 3.6 s
    check = SLOCheck(2000.0, quantile=0.95, metric="latency_ms")

    ok, breached = check.score(healthy), check.score(degraded)

    assert not ok.drifted and breached.drifted
    assert isinstance(breached, DetectorResult)
    assert breached.method == "latency_ms_p95_slo"
    assert breached.threshold == 2000.0
    assert (breached.n_ref, breached.n_test) == (0, 1000)
    assert math.isnan(breached.p_value) and math.isnan(breached.alpha)
    assert breached.params == {"quantile": 0.95, "max_value": 2000.0, "source": "sample"}


def test_empty_window_never_fires():
    result = SLOCheck(0.0).score([])
    assert not result.drifted and math.isnan(result.statistic) and result.n_test == 0


def test_method_names_the_quantile():
    assert SLOCheck(5.0, quantile=0.999, metric="ttft_ms").method == "ttft_ms_p99.9_slo"


def test_pickle_round_trip_scores_identically():
    check = SLOCheck(1000.0, quantile=0.9)
    values = windows(seed=44, count=1)[0]
    assert pickle.loads(pickle.dumps(check)).score(values) == check.score(values)


@pytest.mark.parametrize(
    ("args", "settings", "name"),
    [
        ((math.inf,), {}, "max_value"),
        (("2000",), {}, "max_value"),
        ((2000.0,), {"quantile": 0.0}, "quantile"),
        ((2000.0,), {"quantile": 1.5}, "quantile"),
        ((2000.0,), {"metric": ""}, "metric"),
    ],
)
def test_settings_are_validated(args, settings, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        SLOCheck(*args, **settings)


def test_non_finite_window_values_are_rejected():
    with pytest.raises(ValueError, match=r"^x\b"):
        SLOCheck(1.0).score([1.0, math.nan])
