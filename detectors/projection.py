"""A 2-D picture of embeddings: principal components fitted incrementally on the reference.

The projection is linear PCA from a running mean and scatter matrix, updated batch by
batch with the pairwise formula of Chan, Golub and LeVeque (1979), so the reference can be
fed window by window without keeping its rows, and the result equals PCA on all rows at once.
Fitted on the reference and only *applied* to later windows, the axes stay fixed: a window
whose points land where the reference has none shows the drift, instead of the axes turning
to follow it. UMAP would separate clusters more, but it is neither linear nor stable under
new data, and ``umap-learn`` is not a dependency.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from detectors._validation import check_int, check_sample

__all__ = ["IncrementalProjection"]


class IncrementalProjection:
    """Principal-component projection with incremental fitting.

    Parameters
    ----------
    n_components : int, default 2
        Output dimensions.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(400, 5)) * [5.0, 2.0, 0.1, 0.1, 0.1]
    >>> projection = IncrementalProjection()
    >>> for batch in np.array_split(x, 4):
    ...     _ = projection.partial_fit(batch)
    >>> projection.transform(x).shape, round(float(projection.explained_variance_ratio.sum()), 2)
    ((400, 2), 1.0)
    """

    def __init__(self, n_components: int = 2) -> None:
        self.n_components = check_int("n_components", n_components, minimum=1)
        self._reset()

    def _reset(self) -> None:
        """Forget everything seen."""
        self._n = 0
        self._mean: NDArray[np.float64] | None = None
        self._scatter: NDArray[np.float64] | None = None
        self._components: NDArray[np.float64] | None = None  # cached until the next batch
        self._variances: NDArray[np.float64] | None = None

    @property
    def n_seen(self) -> int:
        """Rows fitted so far."""
        return self._n

    def partial_fit(self, x: NDArray) -> IncrementalProjection:
        """Add the rows of ``x`` (shape (m, d)) to the running mean and scatter."""
        d = None if self._mean is None else self._mean.shape[0]
        x = check_sample("x", x, min_rows=1, n_features=d)
        m = x.shape[0]
        batch_mean = x.mean(axis=0)
        centred = x - batch_mean
        batch_scatter = centred.T @ centred
        if self._mean is None or self._scatter is None:
            self._n, self._mean, self._scatter = m, batch_mean, batch_scatter
        else:
            n = self._n
            delta = batch_mean - self._mean
            total = n + m
            self._mean = self._mean + delta * (m / total)
            self._scatter = self._scatter + batch_scatter + np.outer(delta, delta) * (n * m / total)
            self._n = total
        self._components = None
        return self

    def fit(self, x: NDArray) -> IncrementalProjection:
        """Fit on ``x`` alone, forgetting earlier batches."""
        self._reset()
        return self.partial_fit(x)

    @property
    def components(self) -> NDArray[np.float64]:
        """Principal axes, shape (n_components, d), largest variance first.

        Each axis's sign is fixed so that its largest-magnitude loading is positive, so the
        same data always give the same picture, not a mirrored one.
        """
        if self._components is None:
            self._decompose()
        assert self._components is not None
        return self._components.copy()

    @property
    def explained_variance_ratio(self) -> NDArray[np.float64]:
        """Share of the total variance along each component."""
        if self._components is None:
            self._decompose()
        assert self._variances is not None
        return self._variances.copy()

    def transform(self, x: NDArray) -> NDArray[np.float64]:
        """Coordinates of the rows of ``x`` on the principal axes, shape (m, n_components)."""
        components = self.components
        assert self._mean is not None
        x = check_sample("x", x, min_rows=0, n_features=self._mean.shape[0])
        return (x - self._mean) @ components.T

    def _decompose(self) -> None:
        if self._scatter is None:
            raise RuntimeError("IncrementalProjection is not fitted: call partial_fit() first")
        eigenvalues, eigenvectors = np.linalg.eigh(self._scatter)
        k = min(self.n_components, eigenvalues.shape[0])
        top = np.argsort(eigenvalues)[::-1][:k]
        components = eigenvectors[:, top].T
        pivot = np.argmax(np.abs(components), axis=1)
        signs = np.sign(components[np.arange(k), pivot])
        self._components = components * np.where(signs == 0, 1.0, signs)[:, None]
        total = float(np.clip(eigenvalues, 0.0, None).sum())
        clipped = np.clip(eigenvalues[top], 0.0, None)
        self._variances = clipped / total if total > 0 else np.zeros(k)

    def __repr__(self) -> str:
        return f"IncrementalProjection(n_components={self.n_components}, n_seen={self._n})"
