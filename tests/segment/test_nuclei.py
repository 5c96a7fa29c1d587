"""Segmentation and object matching."""

import numpy as np
import pytest
import tifffile
from skimage.segmentation import clear_border

from platefocus.segment.matching import iou_matrix, match_objects
from platefocus.segment.nuclei import SegmentationConfig, identify_primary_objects


def brute_force_tp(truth, pred, threshold):
    tp = 0
    for t in range(1, truth.max() + 1):
        for p in range(1, pred.max() + 1):
            a, b = truth == t, pred == p
            union = (a | b).sum()
            if union and (a & b).sum() / union > threshold:
                tp += 1
    return tp


def test_matching_against_brute_force():
    rng = np.random.default_rng(0)
    truth = np.zeros((40, 40), int)
    pred = np.zeros((40, 40), int)
    for i in range(6):
        y, x = rng.integers(2, 34, size=2)
        truth[y : y + 5, x : x + 5] = i + 1
        dy, dx = rng.integers(-2, 3, size=2)
        pred[max(y + dy, 0) : y + dy + 5, max(x + dx, 0) : x + dx + 5] = i + 1
    m = match_objects(truth, pred, 0.5)
    assert m.tp == brute_force_tp(truth, pred, 0.5)
    assert m.f1 == pytest.approx(2 * m.tp / (m.n_true + m.n_pred))
    assert iou_matrix(truth, truth).diagonal() == pytest.approx(np.ones(truth.max()))


def test_matching_edge_cases():
    empty = np.zeros((5, 5), int)
    assert match_objects(empty, empty).f1 == 1.0
    one = empty.copy()
    one[1:3, 1:3] = 1
    assert match_objects(one, empty).f1 == 0.0
    with pytest.raises(ValueError):
        match_objects(one, one, threshold=0.3)


def test_segmentation_f1_on_in_focus_truth(tiny_plate):
    scores = []
    for labels_file in sorted((tiny_plate / "truth").glob("*_labels.tif")):
        truth = clear_border(tifffile.imread(labels_file))
        image = tifffile.imread(str(labels_file).replace("_labels", "_w1_infocus"))
        pred = identify_primary_objects(image, SegmentationConfig())
        scores.append(match_objects(truth, pred).f1)
    assert np.mean(scores) >= 0.9, scores


@pytest.mark.parametrize("declump", ["intensity", "shape", "none"])
def test_touching_disks_are_split(declump):
    yy, xx = np.mgrid[:60, :80]
    img = np.zeros((60, 80))
    for cy, cx in ((30, 28), (30, 47)):
        img += 1000 * (np.hypot(yy - cy, xx - cx) < 10)
    img += 100
    labels = identify_primary_objects(
        img, SegmentationConfig(smoothing_sigma_px=0, declump=declump)
    )
    assert labels.max() == (1 if declump == "none" else 2)


def test_constant_image_has_no_objects():
    assert identify_primary_objects(np.full((20, 20), 7.0), SegmentationConfig()).max() == 0


def test_bad_config():
    with pytest.raises(ValueError, match="threshold"):
        SegmentationConfig(threshold="mean")
    with pytest.raises(ValueError, match="diameter"):
        SegmentationConfig(diameter_px=(20, 10))


def _disks(shape, centres, radius, value=1000.0):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    image = np.zeros(shape)
    truth = np.zeros(shape, int)
    for i, (cy, cx) in enumerate(centres, 1):
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
        image[inside] = value
        truth[inside] = i
    return image, truth


def _grid_centres(shape, step, margin):
    return [
        (y, x)
        for y in range(margin, shape[0] - margin, step)
        for x in range(margin, shape[1] - margin, step)
    ]


@pytest.mark.parametrize("diameter", [12, 30, 48])
def test_diameter_is_estimated_from_the_image(diameter):
    from platefocus.segment.nuclei import estimate_diameter

    image, _ = _disks(
        (300, 300), _grid_centres((300, 300), int(diameter * 1.8), diameter), diameter / 2
    )
    noisy = image + np.random.default_rng(0).normal(0, 20, image.shape) + 100
    assert estimate_diameter(noisy) == pytest.approx(diameter, rel=0.1)


def test_auto_diameter_segments_nuclei_of_any_size():
    image, truth = _disks((480, 480), _grid_centres((480, 480), 130, 70), 45)
    image += np.random.default_rng(1).normal(0, 10, image.shape) + 100
    fixed = identify_primary_objects(image, SegmentationConfig(diameter_px=(15, 60)))  # too small
    auto = identify_primary_objects(image, SegmentationConfig(diameter_px=None))
    assert match_objects(truth, fixed).f1 < 0.5
    assert match_objects(truth, auto).f1 > 0.95


def test_background_opening_removes_uneven_illumination():
    image, truth = _disks((256, 256), _grid_centres((256, 256), 40, 24), 9, value=300.0)
    ramp = np.linspace(0, 2000, 256)[None, :] * np.ones((256, 1))  # brighter than nuclei
    image = image + ramp + np.random.default_rng(2).normal(0, 5, image.shape)
    plain = SegmentationConfig(diameter_px=(10, 30))
    opened = SegmentationConfig(diameter_px=(10, 30), background="opening")
    assert match_objects(truth, identify_primary_objects(image, plain)).f1 < 0.5
    assert match_objects(truth, identify_primary_objects(image, opened)).f1 > 0.9


def test_adaptive_threshold_finds_dim_nuclei_beside_bright_ones():
    image, truth = _disks((200, 400), _grid_centres((200, 400), 40, 24), 9)
    image[:, 200:] *= 0.12  # the right half is lit far less
    image += 100 + np.random.default_rng(3).normal(0, 3, image.shape)
    base = dict(diameter_px=(10, 30), threshold="otsu")
    global_ = identify_primary_objects(image, SegmentationConfig(**base))
    adaptive = identify_primary_objects(
        image, SegmentationConfig(**base, threshold_scope="adaptive", adaptive_window_px=100)
    )
    right = truth * (np.arange(400) >= 200)[None, :]
    assert match_objects(right, global_ * (np.arange(400) >= 200)[None, :]).recall < 0.5
    assert match_objects(truth, adaptive).f1 > 0.9


def test_real_confocal_nuclei_against_their_labels(realdata):
    """cells3d middle planes (z 28-38) with the approximate labels shipped with them."""
    nuclei = tifffile.imread(realdata / "cells3d" / "nuclei.tif")
    labels = tifffile.imread(realdata / "cells3d" / "nuclei_label.tif")
    config = SegmentationConfig(diameter_px=None)
    f1 = [
        match_objects(clear_border(labels[z]), identify_primary_objects(nuclei[z], config)).f1
        for z in range(28, 39, 2)
    ]
    assert np.mean(f1) > 0.75, f1
