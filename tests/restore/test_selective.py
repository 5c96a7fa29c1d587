"""Selective restoration: planes within the tolerance of focus are copied, not restored."""

import numpy as np
import pandas as pd
import pytest
import zarr

from platefocus.io.omezarr import Acquisition
from platefocus.restore import PlaneSelection, restore_plate
from platefocus.restore.selective import (
    DefocusCalibration,
    estimated_defocus_um,
    learn_calibration,
    planes_to_restore,
)
from platefocus.restore.settings import RestoreConfig

ACQ = Acquisition(0.65, 2.0)


def _curves(peak: float = 100.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plane scores of 3 fields whose metric falls as exp(-|dz|/2 um), best at z = 4."""
    rows, best = [], []
    for site, scale in ((1, 1.0), (2, 1.2), (3, 0.8)):
        for z in range(9):
            value = peak * scale * np.exp(-abs(z - 4) * 2.0 / 2.0)
            rows.append(
                dict(well="A01", site=site, channel=1, region="field", z=z, tenengrad=value)
            )
        best.append(dict(well="A01", site=site, channel=1, region="field", best_z=4))
    return pd.DataFrame(rows), pd.DataFrame(best)


def test_calibration_from_focus_curves():
    scores, best = _curves()
    cal = learn_calibration(scores, best, z_step_um=2.0)
    assert cal.distances_um == (0.0, 2.0, 4.0, 6.0, 8.0)
    np.testing.assert_allclose(cal.relative_sharpness, np.exp(-np.array(cal.distances_um) / 2))
    assert cal.in_focus_sharpness == pytest.approx(100.0)
    # the estimate inverts the curve, and saturates beyond the farthest distance learned
    for d in (0.0, 1.0, 3.0, 7.5):
        assert cal.defocus_um(cal.sharpness_at(d) * 100.0) == pytest.approx(d, abs=0.05)
    assert cal.defocus_um(1e-6) == 8.0 and cal.defocus_um(500.0) == 0.0


def test_estimated_distances_and_choice():
    cal = DefocusCalibration((0.0, 2.0, 4.0), (1.0, 0.5, 0.25), in_focus_sharpness=100.0)
    stack = estimated_defocus_um([0, 3, None], 3.4, {}, 2.0, None, single_plane=False)
    assert stack[0] == pytest.approx(6.8) and stack[1] == pytest.approx(0.8) and stack[2] is None
    single = estimated_defocus_um([0], None, {0: 50.0}, 2.0, cal, single_plane=True)
    assert single == [pytest.approx(2.0)]
    assert planes_to_restore([6.8, 0.8, None], None) == [True, True, True]
    assert planes_to_restore([6.8, 0.8, None], 2.0) == [True, False, True]


@pytest.fixture(scope="module")
def selective(pairs_dataset, tiny_checkpoints, tmp_path_factory):
    """Every plane of the pairs plate, restored with planes within 2 um of focus copied."""
    _, _, ctx = pairs_dataset
    out = tmp_path_factory.mktemp("selective") / "s.ome.zarr"
    result = restore_plate(
        ctx["plate"],
        ctx["manifest"],
        tiny_checkpoints["layer"],
        out,
        PlaneSelection(mode="all"),
        RestoreConfig(tile=64, overlap=16, skip_within_um=2.0),
        ACQ,
        best=ctx["best"],
        progress=False,
    )
    return out, result


def test_skipped_planes_are_copies_of_the_input(selective, pairs_dataset):
    from platefocus.io.fields import field_array, list_fields

    out, result = selective
    _, _, ctx = pairs_dataset
    assert result["fields"] == 12
    best = ctx["best"]
    best = best[(best["region"] == "field") & (best["channel"] == 1)]
    keys = zip(best["well"], best["site"], best["best_z_refined"], strict=True)
    refined = {(w, s): z for w, s, z in keys}
    root = zarr.open_group(str(out), mode="r")
    copied = restored = 0
    for ref in list_fields(ctx["manifest"]):
        stack = np.asarray(field_array(ctx["plate"], ref)[0])
        field = root[ref.path]
        planes = np.asarray(field["s0"])[0]
        meta = field.attrs["platefocus"]
        for i, z in enumerate(meta["source_z"]):
            distance = abs(z - refined[(ref.well, ref.site)]) * 2.0
            assert meta["estimated_defocus_um"][i] == pytest.approx(distance, abs=1e-3)
            assert meta["restored"][i] == (distance > 2.0)
            if meta["restored"][i]:
                restored += 1
                assert not np.array_equal(planes[i], stack[z])
            else:
                copied += 1
                assert np.array_equal(planes[i], stack[z])  # a copy, byte for byte
    # within 2 um of a refined best plane: one or two planes of each 11-plane field
    assert 12 <= copied <= 24 and restored == 12 * 11 - copied


def test_restore_all_by_default(restored):
    out, _ = restored
    meta = zarr.open_group(str(out), mode="r")["A/1/0"].attrs["platefocus"]
    assert all(meta["restored"])


def test_report_counts_copied_planes(tmp_path):
    from platefocus.report.summary_page import write_summary_page

    planes = pd.DataFrame(
        dict(
            well=["A01"] * 4,
            site=1,
            split="test",
            dz=[-2, -1, 1, 2],
            count_raw=3,
            count_restored=4,
            count_truth=4,
            f1_raw=0.5,
            f1_restored=0.9,
            ssim_raw=0.7,
            ssim_restored=0.8,
            psnr_raw=20.0,
            psnr_restored=22.0,
            restored=[True, False, False, True],
            estimated_defocus_um=[4.0, 1.5, 2.0, 4.0],
            reference="best plane",
        )
    )
    out = tmp_path / "page.html"
    write_summary_page(out, "p", planes, planes.head(1), {}, "")
    text = out.read_text()
    assert "Selective restoration" in text and "2 of 4 planes" in text and "50%" in text
