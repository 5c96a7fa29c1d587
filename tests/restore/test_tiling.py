"""Tiling and blending: exact reconstruction, window shape, coverage."""

import itertools

import numpy as np
import pytest

from platefocus.restore.tiling import (
    axis_starts,
    blend_tiles,
    blend_window,
    cut_tiles,
    pad_plane,
    plan_tiles,
)


@pytest.mark.parametrize("shape", [(100, 130), (20, 17), (256, 256), (97, 65), (64, 64)])
@pytest.mark.parametrize("tile, overlap", [(32, 8), (48, 0), (64, 16), (40, 39)])
def test_cut_and_blend_reconstructs_the_plane(shape, tile, overlap):
    img = np.random.default_rng(sum(shape) + tile).random(shape)
    layout = plan_tiles(shape, tile, overlap)
    tiles = cut_tiles(pad_plane(img, layout), layout)
    assert tiles.shape[1:] == (tile, tile)
    np.testing.assert_allclose(blend_tiles(tiles, layout, overlap), img, rtol=0, atol=1e-12)


def test_starts_cover_the_axis_and_end_flush():
    for size, tile, overlap in [(100, 32, 8), (32, 32, 8), (10, 32, 8), (257, 64, 16)]:
        starts = axis_starts(size, tile, overlap)
        covered = np.zeros(max(size, tile), bool)
        for s in starts:
            covered[s : s + tile] = True
        assert covered[:size].all()
        assert starts[-1] + tile == max(size, tile)
        assert all(b - a <= tile - overlap for a, b in itertools.pairwise(starts))


def test_blend_window_is_smooth_positive_and_flat_inside():
    w = blend_window(64, 16)
    assert w.min() > 0 and w.max() == 1.0
    assert (w[16:48, 16:48] == 1).all()
    assert np.allclose(w, w.T) and np.allclose(w, w[::-1, ::-1])
    edge = w[32, :16]
    assert np.all(np.diff(edge) > 0)


@pytest.mark.parametrize("tile, overlap", [(4, 0), (32, 32), (32, -1)])
def test_bad_tiling(tile, overlap):
    with pytest.raises(ValueError):
        plan_tiles((64, 64), tile, overlap)
