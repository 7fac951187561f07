"""The drift tests a window runs on its embeddings: one table, name → factory.

The window job (:mod:`streams.windows.job`) builds every entry of :data:`DRIFT_TESTS` once per
reference sample and scores each window's sample with all of them, one row of the ``drift``
table per entry and field. A name is the ``method`` its detector writes (the column Grafana
and the alert rules select on), so the table reads like the rows it produces, and the
convention test (``tests/detectors/test_conventions.py``) holds every entry to it.

Every factory takes the same arguments, ``factory(reference, *, alpha, n_resamples, seed)``,
and returns a detector whose ``score(window) -> DetectorResult``; a two-sample detector gets
one from :meth:`~detectors.drift._two_sample.TwoSampleDrift.create`, and settings of its own
(``metric="cosine"``) are bound in its line with :func:`functools.partial`.

Not in the table, and why:

* ``ClusterShareDrift`` is run by the topic stage (:mod:`streams.windows.topic_stage`), which
  fits the topic model it tests on, names the clusters that changed from the texts, and keeps
  the partition for the window's stored rows; a generic ``score(window)`` would test a second,
  unnamed partition and write a second ``cluster_share`` row.
* The change tests on scalars (``DistributionChange``, ``RateChange``, ``SLOCheck``) each take
  another input (a value sample, two counts, an objective with no reference), so no one
  signature fits them; the signal tables of :mod:`streams.windows.change_tests`
  (``VALUE_TESTS``, ``RATE_TESTS``) say which of them runs on which signal.
"""

from __future__ import annotations

from functools import partial
from typing import Protocol

from numpy.typing import NDArray

from detectors.drift.centroid import CentroidDrift
from detectors.drift.mmd import MMDDrift
from detectors.result import DetectorResult

__all__ = ["DRIFT_TESTS", "DriftDetector", "DriftFactory"]


class DriftDetector(Protocol):
    """What the window job needs of a built drift test."""

    def score(self, x: NDArray) -> DetectorResult: ...


class DriftFactory(Protocol):
    """The uniform signature of a :data:`DRIFT_TESTS` entry."""

    def __call__(
        self, reference: NDArray, *, alpha: float, n_resamples: int, seed: int | None
    ) -> DriftDetector: ...


DRIFT_TESTS: dict[str, DriftFactory] = {
    "mmd": MMDDrift.create,
    "centroid_cosine": partial(CentroidDrift.create, metric="cosine"),
}
"""Name (the result's ``method``) → factory, in the order the window's rows are written."""
