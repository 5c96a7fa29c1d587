"""Before/after comparison: restoration recovers objects on a small run; summary page."""

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_DIAMETER_PX

from platefocus.compare.segmentation import compare_plate, image_quality, object_rows, summarise
from platefocus.segment.nuclei import SegmentationConfig


def test_image_quality_against_itself_and_noise():
    rng = np.random.default_rng(0)
    ref = rng.random((64, 64)) * 1000
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the in-focus plane against itself: no warning
        psnr, ssim = image_quality(ref, ref)
    assert ssim == pytest.approx(1.0) and psnr == np.inf
    noisy = ref + rng.normal(0, 400, ref.shape)
    psnr_noisy, ssim_noisy = image_quality(noisy, ref)
    assert ssim_noisy < 0.9 and psnr_noisy < 10


def test_object_rows():
    labels = np.zeros((20, 20), int)
    labels[2:6, 2:6] = 1
    labels[10:12, 10:15] = 2
    image = np.where(labels > 0, 100.0, 0.0)
    rows = object_rows(labels, image, "raw")
    assert [r["area_px"] for r in rows] == [16, 10]
    assert all(r["mean_intensity"] == 100 for r in rows)


@pytest.fixture(scope="module")
def comparison(pairs_dataset, restored):
    """Compare the restored pairs plate with its raw and in-focus planes, per field."""
    _, table, ctx = pairs_dataset
    truth = ctx["plate"].parent / "plate" / "truth"
    splits = dict(zip(table["well"], table["split"], strict=True))
    return compare_plate(
        ctx["plate"],
        restored[0],
        ctx["manifest"],
        ctx["best"],
        SegmentationConfig(diameter_px=DEMO_DIAMETER_PX),
        truth_root=truth,
        splits=splits,
        workers=2,
    )


def test_comparison_table(comparison):
    planes = comparison.planes
    required = {
        "well",
        "site",
        "dz",
        "count_raw",
        "count_restored",
        "count_truth",
        "f1_raw",
        "f1_restored",
        "ssim_raw",
        "ssim_restored",
        "psnr_raw",
        "psnr_restored",
        "split",
    }
    assert required <= set(planes.columns)
    # 12 fields x 2 planes, less planes that fall outside a stack (not compared)
    assert 18 <= len(planes) <= 24 and set(planes["dz"]) == {-3, 3}
    assert set(planes["truth"]) == {"true labels"}
    assert {"raw", "restored", "best_plane"} == set(comparison.objects["source"])


def test_restoration_moves_counts_and_f1_towards_truth(comparison):
    planes = comparison.planes
    # the direction the pipeline exists for, on a small run
    assert planes["f1_restored"].mean() > planes["f1_raw"].mean()
    assert planes["ssim_restored"].mean() > planes["ssim_raw"].mean()
    err_raw = (planes["count_raw"] - planes["count_truth"]).abs().mean()
    err_restored = (planes["count_restored"] - planes["count_truth"]).abs().mean()
    assert err_restored < err_raw


def test_summary_by_split_and_dz(comparison):
    summary = summarise(comparison.planes)
    assert {"all", "3"} <= set(summary["abs_dz"])
    assert set(summary["split"]) <= {"train", "val", "test", "unused"}


def test_summary_page_is_self_contained(comparison, tmp_path):
    from platefocus.report.segmentation import paired_ssim
    from platefocus.report.style import save_figure
    from platefocus.report.summary_page import write_summary_page

    fig_path = tmp_path / "ssim.png"
    save_figure(paired_ssim(comparison.planes), fig_path)
    out = tmp_path / "summary.html"
    write_summary_page(
        out,
        "pairs",
        comparison.planes,
        summarise(comparison.planes),
        {"Paired SSIM per field": fig_path},
        "plates: [pairs]\n",
    )
    text = out.read_text()
    assert "data:image/png;base64," in text and 'src="http' not in text
    assert "Headline numbers" in text and "Software versions" in text
    assert "plates: [pairs]" in text
    assert text.count("<table") >= 3  # headline cards and the by-dz table


def test_objects_table_keeps_its_columns_without_objects():
    """A field where no plane holds an object still gives a table that can be filtered."""
    from platefocus.compare.objects import OBJECT_COLUMNS, objects_table

    table = objects_table([], dict(plate="p", well="A01", site=1))
    assert table.empty
    assert list(table.columns) == ["plate", "well", "site", "dz", *OBJECT_COLUMNS]
    assert table[table["source"] == "restored"].empty
    rows = [
        dict(
            plate="p",
            well="A02",
            site=1,
            dz=2.0,
            source="raw",
            label=1,
            area_px=4.0,
            mean_intensity=1.0,
            sharpness=0.5,
        )
    ]
    both = pd.concat([table, objects_table(rows, {})], ignore_index=True)
    assert both["area_px"].dtype == np.float64 and both["label"].dtype == np.int64
    assert both["site"].dtype == np.int64
