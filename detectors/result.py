"""The one result shape every detector returns.

Field names are the ClickHouse column names of the ``drift`` table and the fields Grafana
queries read, so a result goes from ``score()`` to storage without renaming.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
