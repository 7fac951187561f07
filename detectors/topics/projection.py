"""2-D pictures of embeddings: incremental PCA, and the plane that separates topic clusters.

:class:`IncrementalProjection` is linear PCA from a running mean and scatter matrix, updated
batch by batch with the pairwise formula of Chan, Golub and LeVeque (1979), so a reference
can be fed window by window without keeping its rows, and the result equals PCA on all rows
at once. Fitted on the reference and only *applied* to later windows, its axes stay fixed.

Its limit for drift pictures: the reference's directions of largest variance are those of
the *old* topics, and a new topic is mostly orthogonal to them. On 800 generated support
prompts (five topics plus 12 % of a new one) the new topic's rows landed within 0.15
standard deviations of the reference mean on both axes, in the middle of the old topics.
:class:`DiscriminantProjection` is therefore what the report draws: Fisher's linear
discriminant of the topic clusters (the plane in which clusters are furthest apart
relative to their own spread), with Ledoit-Wolf shrinkage of the within-cluster covariance
because 384 dimensions are many for a few thousand rows. On a generated incident (the new
topic in half of eight windows, 720 rows, k = 8) the mean silhouette of the new topic's
cluster in the 2-D picture was -0.02 with PCA fitted on the reference, 0.50 with PCA of the
cluster centres and 0.90 with the discriminant. UMAP, non-linear and unstable under new data,
is the report's picture when ``umap-learn`` is installed (:mod:`streams.report.projection`);
the discriminant is its fallback.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from detectors._validation import check_int, check_sample

__all__ = ["DiscriminantProjection", "IncrementalProjection"]


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


class DiscriminantProjection:
    """The linear projection that best separates labelled clusters (Fisher's LDA).

    Parameters
    ----------
    n_components : int, default 2
        Output dimensions; with fewer than ``n_components + 1`` clusters the missing axes
        are zero.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1, 2], 50)
    >>> x = rng.normal(size=(150, 10)) + np.eye(10)[labels] * 4
    >>> picture = DiscriminantProjection().fit(x, labels).transform(x)
    >>> picture.shape, bool(np.ptp(picture[labels == 0, 0]) < np.ptp(picture[:, 0]))
    ((150, 2), True)
    """

    def __init__(self, n_components: int = 2) -> None:
        self.n_components = check_int("n_components", n_components, minimum=1)
        self._reset()

    def _reset(self) -> None:
        self._lda: LinearDiscriminantAnalysis | None = None
        self._fallback: IncrementalProjection | None = None

    def fit(self, x: NDArray, labels: NDArray) -> DiscriminantProjection:
        """Fit on rows ``x`` (shape (n, d)) with their cluster ``labels`` (shape (n,))."""
        self._reset()
        x = check_sample("x", x, min_rows=2)
        labels = np.asarray(labels)
        if labels.shape != (x.shape[0],):
            raise ValueError(f"labels must have shape ({x.shape[0]},), got {labels.shape}")
        classes = np.unique(labels)
        if classes.size < 2:  # nothing to separate: plain PCA
            self._fallback = IncrementalProjection(self.n_components).fit(x)
            return self
        lda = LinearDiscriminantAnalysis(
            n_components=min(self.n_components, classes.size - 1, x.shape[1]),
            solver="eigen", shrinkage="auto",
        )
        self._lda = lda.fit(x, labels)
        return self

    def transform(self, x: NDArray) -> NDArray[np.float64]:
        """Coordinates of the rows of ``x``, shape (m, n_components)."""
        if self._lda is None and self._fallback is None:
            raise RuntimeError("DiscriminantProjection is not fitted: call fit() first")
        x = check_sample("x", x, min_rows=0)
        if x.shape[0] == 0:
            return np.zeros((0, self.n_components))
        projected = (self._lda.transform(x) if self._lda is not None
                     else self._fallback.transform(x))  # type: ignore[union-attr]
        out = np.zeros((x.shape[0], self.n_components))
        out[:, : projected.shape[1]] = projected
        return out

    def __repr__(self) -> str:
        return f"DiscriminantProjection(n_components={self.n_components})"
