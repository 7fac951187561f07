"""Incremental PCA: batch by batch equals all at once, and the axes do not flip."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.topics.projection import IncrementalProjection


@pytest.fixture
def data() -> np.ndarray:
    rng = np.random.default_rng(4)
    mixing = rng.normal(size=(6, 6))
    return rng.normal(size=(500, 6)) * [6.0, 3.0, 1.0, 0.5, 0.2, 0.1] @ mixing + 3.0


def test_batches_give_the_same_projection_as_pca_on_all_rows(data: np.ndarray) -> None:
    incremental = IncrementalProjection()
    for batch in np.array_split(data, 7):
        incremental.partial_fit(batch)
    centred = data - data.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    components = incremental.components
    # Same axes up to sign (PCA's sign is arbitrary; ours is pinned by a convention).
    np.testing.assert_allclose(np.abs(np.sum(components * axes[:2], axis=1)), 1.0, atol=1e-9)
    expected_ratio = singular[:2] ** 2 / np.sum(singular**2)
    np.testing.assert_allclose(incremental.explained_variance_ratio, expected_ratio, rtol=1e-9)
    once = IncrementalProjection().fit(data)
    np.testing.assert_allclose(incremental.transform(data), once.transform(data), atol=1e-9)
    assert incremental.n_seen == 500


def test_the_picture_is_the_same_for_the_same_data_in_any_order(data: np.ndarray) -> None:
    a = IncrementalProjection().fit(data)
    b = IncrementalProjection().fit(data[::-1])
    np.testing.assert_allclose(a.transform(data), b.transform(data), atol=1e-9)
    assert np.all(np.abs(a.components).argmax(axis=1) == np.abs(b.components).argmax(axis=1))
    assert np.all(a.components[np.arange(2), np.abs(a.components).argmax(axis=1)] > 0)


def test_axes_stay_fixed_while_later_windows_are_only_projected(data: np.ndarray) -> None:
    projection = IncrementalProjection().fit(data)
    before = projection.components
    shifted = projection.transform(data[:100] + 10.0 * projection.components[0])
    np.testing.assert_array_equal(projection.components, before)
    assert shifted[:, 0].mean() == pytest.approx(projection.transform(data[:100])[:, 0].mean()
                                                 + 10.0)


def test_misuse_is_named(data: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"^n_components\b"):
        IncrementalProjection(n_components=0)
    with pytest.raises(RuntimeError, match="not fitted"):
        IncrementalProjection().transform(data)
    projection = IncrementalProjection().fit(data)
    with pytest.raises(ValueError, match=r"^x\b"):
        projection.partial_fit(data[:, :3])
    with pytest.raises(ValueError, match=r"^x\b"):
        projection.transform(np.full((2, 6), np.nan))
