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
