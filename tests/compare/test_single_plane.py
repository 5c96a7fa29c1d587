"""A field of one plane checked against its observation at its distance from focus."""

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage
from skimage.draw import disk

from platefocus.compare.distance import SinglePlaneDistance
from platefocus.compare.segmentation import compare_single_plane
from platefocus.consistency import blur
from platefocus.io.fields import FieldRef
from platefocus.segment.nuclei import SegmentationConfig

REF = FieldRef("p", "A01", "A", 1, 0, 0, (0,), (0,))
SEGMENTATION = SegmentationConfig(diameter_px=(10, 30))


def gaussian_kernel(sigma: float, size: int = 41) -> np.ndarray:
    c = size // 2
    yy, xx = np.indices((size, size))
    k = np.exp(-((yy - c) ** 2 + (xx - c) ** 2) / (2 * sigma**2))
    return k / k.sum()


def scene(seed: int = 0):
    """In-focus nuclei (disks of 8 px radius), their labels, and the plane observed
    through a Gaussian blur of 4 px with noise of 5."""
    rng = np.random.default_rng(seed)
    shape = (192, 192)
    focused = np.full(shape, 100.0)
    labels = np.zeros(shape, np.int32)
    centres = [(40, 40), (40, 150), (100, 90), (150, 40), (150, 150)]
    for i, centre in enumerate(centres, start=1):
        rr, cc = disk(centre, 8, shape=shape)
        focused[rr, cc] = 1100.0
        labels[rr, cc] = i
    observed = blur(focused, gaussian_kernel(4.0)) + rng.normal(0, 5.0, shape)
    return focused, labels, observed


def test_offsets_of_a_single_plane_come_from_its_estimate_else_the_stated_distance():
    distance = SinglePlaneDistance(z_step_um=2.0, stated_um=32.0)
    assert distance.offsets(6.2) == [-3, 3]
    assert distance.offsets(5.0) == [-3, 3]  # half way rounds away from focus
    assert distance.offsets(None) == [-16, 16]
    assert distance.offsets(float("nan")) == [-16, 16]
    assert distance.offsets(0.6) == []  # within a plane of focus: nothing to check
    assert SinglePlaneDistance(z_step_um=2.0).offsets(None) == []


def test_distances_in_um_take_each_estimate_else_the_stated_distance():
    estimated = np.array([6.2, np.nan, -4.0])
    stated = SinglePlaneDistance(z_step_um=2.0, stated_um=32.0).distance_um(estimated)
    np.testing.assert_array_equal(stated, [6.2, 32.0, -4.0])
    unknown = SinglePlaneDistance(z_step_um=2.0).distance_um(estimated)
    np.testing.assert_array_equal(unknown, [6.2, np.nan, -4.0])
    assert float(SinglePlaneDistance(2.0, 32.0).distance_um(None)) == 32.0


def test_a_consistent_single_plane_is_checked_with_the_kernel_that_explains_it():
    focused, labels, observed = scene()
    kernels = {-3: gaussian_kernel(4.0), 3: gaussian_kernel(9.0)}  # the side that fits: -3
    result = compare_single_plane(
        REF, observed, focused, SEGMENTATION, labels, kernels, offsets=[-3, 3]
    )
    row = result.planes.iloc[0]
    assert row["operator_dz"] == -3
    assert row["consistency_score"] == pytest.approx(1.0, abs=0.2)
    assert row["count_flagged"] == 0 and row["count_restored"] == 5
    restored = result.objects[result.objects["source"] == "restored"]
    assert restored["support"].notna().all() and not restored["flagged"].any()


def test_an_invention_over_background_in_a_single_plane_is_flagged_and_not_reliable():
    focused, labels, observed = scene()
    invented = focused.copy()
    free = np.argwhere(ndimage.distance_transform_edt(labels == 0) > 30)
    rr, cc = disk(tuple(free[len(free) // 2]), 8, shape=focused.shape)
    invented[rr, cc] = 1100.0
    result = compare_single_plane(
        REF, observed, invented, SEGMENTATION, labels, {-3: gaussian_kernel(4.0)}, [-3, 3]
    )
    row = result.planes.iloc[0]
    assert row["operator_dz"] == -3  # +3 has no kernel: checked on the side there is
    assert row["count_restored"] == 6 and row["count_flagged"] == 1
    restored = result.objects[result.objects["source"] == "restored"]
    fake = restored[restored["flagged"]]
    assert len(fake) == 1 and not fake["real"].any() and not fake["reliable"].any()


def test_a_single_plane_without_a_kernel_at_its_distance_is_not_checked():
    focused, labels, observed = scene()
    result = compare_single_plane(
        REF, observed, focused, SEGMENTATION, labels, {-5: gaussian_kernel(4.0)}, [-3, 3]
    )
    assert "consistency_score" not in result.planes
    assert "flagged" not in result.objects


def test_the_summary_page_shows_what_the_check_of_single_planes_found():
    from platefocus.report.summary_page import _single_plane_headline

    focused, labels, observed = scene()
    checked = compare_single_plane(
        REF, observed, focused, SEGMENTATION, labels, {-3: gaussian_kernel(4.0)}, [-3, 3]
    ).planes
    card = _single_plane_headline(checked)
    assert "no support in the observation (flagged)" in card and "0 of 5" in card
    assert "|dz| = 3 planes" in card
    assert "held-out planes' median" not in card  # no held-out scores to set it against
    ratio = dict(consistency_vs_held_out=[1.6], consistency_vs_held_out_max=[1.25])
    card = _single_plane_headline(checked.assign(**ratio))
    assert "held-out planes themselves reach 1.25" in card
    assert "1.60" in card and "1 of 1 fields above every held-out plane" in card
    unchecked = compare_single_plane(REF, observed, focused, SEGMENTATION, labels).planes
    assert "flagged" not in _single_plane_headline(unchecked)


def test_the_summary_page_says_which_planes_the_reliable_range_does_not_carry_over_to():
    from platefocus.report.summary_page import _reliable_rows

    planes = pd.DataFrame(
        dict(
            count_reliable=[0, 5],
            count_restored=[7, 6],
            beyond_reliable_range=[False, False],
            reliable_range_dz=16.0,
            unlike_held_out=pd.array([True, False], dtype="boolean"),
        )
    )
    rows = _reliable_rows(planes)
    assert "5 of 13" in rows and "0 of 2 planes lie beyond it" in rows
    assert "1 of 2 planes explain their observation worse than every held-out plane" in rows
    assert "worse than every" not in _reliable_rows(planes.drop(columns="unlike_held_out"))


def test_a_single_plane_says_whether_its_expected_size_was_given_or_read_off_the_blur():
    from platefocus.report.summary_page import _single_plane_headline

    focused, labels, observed = scene()
    given = compare_single_plane(REF, observed, focused, SEGMENTATION, labels).planes
    assert given["expected_diameter_from"].item() == "setting"
    assert given["expected_diameter_px"].item() == pytest.approx(np.sqrt(10 * 30))
    assert "estimated from the defocused planes" not in _single_plane_headline(given)
    auto = SegmentationConfig(diameter_px=None)
    estimated = compare_single_plane(REF, observed, focused, auto, labels).planes
    assert estimated["expected_diameter_from"].item() == "raw plane"
    # the blurred plane's blobs measure larger than the 16 px nuclei in focus
    assert estimated["expected_diameter_px"].item() > 16 * 1.1
    assert "estimated from the defocused planes" in _single_plane_headline(estimated)
    # the restored disks are the in-focus ones: about the 16 px the range says
    sized = SegmentationConfig(diameter_px=(8, 32))
    fits = compare_single_plane(REF, observed, focused, sized, labels).planes
    fit = fits["restored_size_ratio"].item()
    assert 0.9 < fit < 1.25  # segmented a little wider than drawn
    assert "median diameter over the expected" in _single_plane_headline(fits)
    swollen = ndimage.grey_dilation(focused, size=(9, 9))  # 16 -> 24 px disks
    grown = compare_single_plane(REF, observed, swollen, sized, labels).planes
    assert grown["restored_size_ratio"].item() / fit == pytest.approx(1.5, abs=0.1)


def test_a_single_plane_takes_the_training_plates_in_focus_size_unless_the_setting_gives_one():
    focused, labels, observed = scene()
    auto = SegmentationConfig(diameter_px=None)
    taken = compare_single_plane(REF, observed, focused, auto, labels, in_focus_diameter_px=16.0)
    row = taken.planes.iloc[0]
    assert row["expected_diameter_from"] == "training plate"
    assert row["expected_diameter_px"] == pytest.approx(16.0, rel=0.05)
    restored = taken.objects[taken.objects["source"] == "restored"]
    assert restored["size_ratio"].between(0.8, 1.25).all()  # the in-focus disks fit it
    given = compare_single_plane(REF, observed, focused, SEGMENTATION, labels, None, None, 40.0)
    assert given.planes["expected_diameter_from"].item() == "setting"
    unknown = compare_single_plane(
        REF, observed, focused, auto, labels, in_focus_diameter_px=float("nan")
    )
    assert unknown.planes["expected_diameter_from"].item() == "raw plane"


def test_the_in_focus_size_a_plate_inherits_is_its_training_plates_fields_median():
    from platefocus.compare.reliability import in_focus_diameter_px

    reference = pd.DataFrame(
        dict(
            plate="t",
            well=["A01", "A01", "A02", "A03", "B01"],
            site=1,
            dz=[-2.0, 2.0, 2.0, 4.0, np.nan],
            expected_diameter_px=[20.0, 20.0, 30.0, 28.0, 90.0],  # B01: a single plane
        )
    )
    assert in_focus_diameter_px(reference) == 28.0  # one value per field, stacks only
    assert in_focus_diameter_px(reference.drop(columns="expected_diameter_px")) is None
    assert in_focus_diameter_px(reference.iloc[4:]) is None
