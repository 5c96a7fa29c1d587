"""``diameter_px: auto``: the estimator against nuclei measured by hand on real images,
and the fallback when a field gives too few objects to measure.

How the sizes were measured by hand: each image was shown as a 160 x 160 crop under a
10-pixel grid (matplotlib), and the long and short axes of 3-5 nuclei read off the grid;
a nucleus' size is the geometric mean of its axes (an ellipse's equivalent diameter).
cells3d z = 33 (top-left crop): 45 x 50, 49 x 52, 65 x 33 -> about 48 px. BBBC022 A02 s9
Hoechst (rows 100-260, columns 200-360): 40 x 25, 42 x 22, 44 x 24 -> about 31 px.
BBBC006 near focus a09 (rows 100-260, columns 100-260): 38 x 20, 18 x 26, 24 x 36,
38 x 18, 18 x 43 -> about 27 px.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from platefocus.segment.nuclei import (
    MIN_OBJECTS_FOR_ESTIMATE,
    SegmentationConfig,
    estimate_diameter,
    with_diameter,
)

BY_HAND_PX = {"cells3d": 48.0, "bbbc022": 31.0, "bbbc006_near_focus": 27.0}
#: The estimate's range spans x2 either side, so 20 % off is well within what it needs.
TOLERANCE = 0.2


def _near_focus_planes(realdata):
    from skimage import io

    folder = realdata / "bbbc006_calibration" / "near_focus"
    return [io.imread(p) for p in sorted(folder.glob("*.png"))]


def test_cells3d_in_focus_planes(realdata):
    stack = tifffile.imread(realdata / "cells3d" / "nuclei.tif")  # (z, y, x)
    for z in (28, 33, 38):  # the sharp planes of the cell layer
        assert estimate_diameter(stack[z]) == pytest.approx(BY_HAND_PX["cells3d"], rel=TOLERANCE)


def test_bbbc022_crop(realdata):
    hoechst = tifffile.imread(realdata / "bbbc022" / "IXMtest_A02_s9.tif")[0]
    assert estimate_diameter(hoechst) == pytest.approx(BY_HAND_PX["bbbc022"], rel=TOLERANCE)


def test_bbbc006_near_focus_planes(realdata):
    estimates = [estimate_diameter(plane) for plane in _near_focus_planes(realdata)]
    assert len(estimates) == 9
    assert np.median(estimates) == pytest.approx(BY_HAND_PX["bbbc006_near_focus"], rel=TOLERANCE)
    for d in estimates:  # every field, not only the median
        assert d == pytest.approx(BY_HAND_PX["bbbc006_near_focus"], rel=0.3)


def test_auto_is_the_default_and_shares_one_range(realdata):
    """The default config estimates; the range brackets the hand-measured size."""
    config = SegmentationConfig()
    assert config.diameter_px is None
    plane = _near_focus_planes(realdata)[-1]
    low, high = with_diameter(config, plane).diameter_px
    assert low < BY_HAND_PX["bbbc006_near_focus"] < high
    assert SegmentationConfig.from_config({"diameter_px": "auto"}).diameter_px is None


def test_too_few_objects_fall_back_to_the_configured_range():
    """An empty field, or one with fewer than MIN_OBJECTS_FOR_ESTIMATE objects, is not
    measured: the fallback range is used, not a guess from one blob."""
    rng = np.random.default_rng(0)
    empty = rng.normal(100, 3, (128, 128))
    few = empty.copy()
    yy, xx = np.mgrid[:128, :128]
    for cy, cx in [(30, 30), (90, 90)][: MIN_OBJECTS_FOR_ESTIMATE - 1]:
        few[(yy - cy) ** 2 + (xx - cx) ** 2 < 6**2] += 500
    config = SegmentationConfig(fallback_diameter_px=(20, 70))
    assert with_diameter(config, empty).diameter_px == (20, 70)
    assert with_diameter(config, few).diameter_px == (20, 70)
    assert np.isfinite(estimate_diameter(few))  # measurable, but not enough to trust
    with pytest.raises(ValueError, match="fallback_diameter_px"):
        SegmentationConfig(fallback_diameter_px=(50, 10))
