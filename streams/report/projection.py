"""The report's 2-D picture of the embedded sample: UMAP, or Fisher's discriminant without it.

UMAP (``umap-learn``, the ``report`` extra) keeps each row's nearest neighbours together, so a
topic is an island whatever directions it spans, and a new topic is an island of late-window
points. It is seeded (``random_state``), which also makes it single-threaded and the picture
reproducible: the same sample gives the same page. Cosine distance, the geometry sentence
embeddings are trained for. ``n_neighbors`` grows with the sample as about √n, between 5
and 50: UMAP's default of 15 suits a few hundred rows, while a few thousand rows of a dozen
topics need larger neighbourhoods to keep each topic in one piece.

Cost: numba compiles UMAP's kernels on the first fit in a process (tens of seconds on a
loaded two-core machine), later fits of a report-sized sample take seconds.

Without ``umap-learn`` the picture is :class:`~detectors.topics.projection.DiscriminantProjection`,
the linear plane that best separates the topic clusters, with a note saying so.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.topics.projection import DiscriminantProjection

MIN_NEIGHBORS, MAX_NEIGHBORS = 5, 50


@dataclass(frozen=True)
class Picture:
    """Coordinates of every row, and how they were made (a sentence for the page)."""

    coordinates: NDArray[np.float64]  # (rows, 2)
    method: str  # "umap" | "discriminant"
    note: str


def umap_available() -> bool:
    return importlib.util.find_spec("umap") is not None


def neighbours(rows: int) -> int:
    """UMAP's ``n_neighbors`` for a sample of ``rows`` (see the module notes)."""
    return int(min(max(round(np.sqrt(rows)), MIN_NEIGHBORS), MAX_NEIGHBORS, max(rows - 1, 2)))


def project(
    vectors: NDArray, labels: NDArray, *, seed: int = 0, use_umap: bool = True
) -> Picture:
    """The 2-D picture of ``vectors`` (labels: their topic clusters, for the fallback)."""
    rows = vectors.shape[0]
    if not use_umap:
        reason = "it was switched off (--projection discriminant)"
    elif not umap_available():
        reason = "umap-learn is not installed (pip install 'seismo[report]')"
    elif rows <= MIN_NEIGHBORS + 1:
        reason = f"{rows} rows are too few for it"
    else:
        return _umap(vectors, seed)
    coordinates = DiscriminantProjection(2).fit(vectors, labels).transform(vectors)
    return Picture(
        coordinates, "discriminant",
        "Every sampled row on the plane that best separates the topic clusters (Fisher's "
        f"linear discriminant); UMAP is not used: {reason}. Distances on the plane are not "
        "embedding distances.",
    )


def _umap(vectors: NDArray, seed: int) -> Picture:
    import umap  # the report extra; imported here because the import alone takes seconds

    k = neighbours(vectors.shape[0])
    with warnings.catch_warnings():
        # "n_jobs value 1 overridden to 1 by setting random_state": the seed is the point.
        warnings.simplefilter("ignore", UserWarning)
        coordinates = umap.UMAP(
            n_components=2, n_neighbors=k, metric="cosine", random_state=seed, n_jobs=1,
        ).fit_transform(np.asarray(vectors, dtype=np.float32))
    return Picture(
        np.asarray(coordinates, dtype=np.float64), "umap",
        f"Every sampled row drawn with UMAP (cosine distance, {k} neighbours, seed {seed}): "
        "rows with similar embeddings are near each other, so a topic is an island; "
        "distances between islands and the axes carry no meaning.",
    )
