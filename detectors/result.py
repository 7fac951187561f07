"""The one result shape every detector returns.

Field names are the ClickHouse column names of the ``drift`` table and the fields Grafana
queries read, so a result goes from ``score()`` to storage without renaming.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.tables import DRIFT_VERDICT as DRIFT
from schemas.tables import INSUFFICIENT_DATA_VERDICT as INSUFFICIENT_DATA
from schemas.tables import NO_DRIFT_VERDICT as NO_DRIFT

# The verdicts a drift row can carry (``verdict`` column); see detectors.drift.power.
VERDICTS = (DRIFT, NO_DRIFT, INSUFFICIENT_DATA)


@dataclass(frozen=True, slots=True)
class DetectorResult:
    """Outcome of one two-sample test (reference vs. window).

    Attributes
    ----------
    method : str
        Stable name of the test, e.g. ``"mmd"``, ``"centroid_cosine"``.
    statistic : float
        The observed test statistic.
    p_value : float
        p-value of the statistic under "no change"; ``nan`` when the test yields a threshold only.
    threshold : float
        Critical value of the statistic at level ``alpha``; ``nan`` when only a p-value exists.
    drifted : bool
        The decision at level ``alpha``.
    n_ref, n_test : int
        Sample sizes of the reference and of the tested window.
    alpha : float
        Significance level the decision was taken at.
    params : dict
        Everything else needed to reproduce the result (bandwidth, permutations, seed ...).
    min_detectable_effect : float
        Smallest mixture fraction of a held-out shift the test detects with power 0.8 at these
        sample sizes (:mod:`detectors.drift.power`); ``nan`` where no calibration exists.
    verdict : str
        ``"drift"``, ``"no_drift"`` or ``"insufficient_data"`` (the window was too small to
        detect the configured minimum effect); ``""`` until the window job judges the power,
        read as ``drift``/``no_drift`` from ``drifted``. ``drifted`` never changes meaning.
    """

    method: str
    statistic: float
    p_value: float
    threshold: float
    drifted: bool
    n_ref: int
    n_test: int
    alpha: float
    params: dict[str, Any] = field(default_factory=dict)
    min_detectable_effect: float = float("nan")
    verdict: str = ""

    @property
    def insufficient(self) -> bool:
        """The window could not have detected the configured effect and did not reject."""
        return self.verdict == INSUFFICIENT_DATA
