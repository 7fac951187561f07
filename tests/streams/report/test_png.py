"""The screenshot reader decodes every PNG filter exactly."""

from __future__ import annotations

import numpy as np

from tests.streams.report.png import read_png, write_png


def test_every_filter_round_trips(tmp_path) -> None:
    rng = np.random.default_rng(0)
    # Smooth gradients plus noise: the predictors see realistic neighbours.
    ys, xs = np.mgrid[0:37, 0:53]
    base = np.stack([xs * 4, ys * 6, (xs + ys) * 3, np.full_like(xs, 255)], axis=-1)
    pixels = ((base + rng.integers(0, 40, size=base.shape)) % 256).astype(np.uint8)
    kinds = rng.integers(0, 5, size=37).astype(np.uint8)
    path = tmp_path / "x.png"
    write_png(path, pixels, kinds)
    np.testing.assert_array_equal(read_png(path), pixels)
    write_png(path, pixels[..., :3], kinds)
    np.testing.assert_array_equal(read_png(path), pixels[..., :3])
