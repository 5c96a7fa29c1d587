"""Train once, restore a screen: a plate with Z-stacks trains, a plate of one plane per
field is restored with its model, segmented and reported (tiny version of make screen),
with selective restoration on (planes within 2 um of focus copied)."""

import hashlib

import numpy as np
import pandas as pd
import pytest
import zarr
from conftest import TINY, snakemake

from platefocus.compare.reliability import in_focus_diameter_px

SCREEN = """\
plates: [tiny, shot]
training: {plates: [tiny]}
restore: {skip_within_um: 2.0}
segmentation: {diameter_px: auto}
synthetic:
  plates:
    shot: {planes: 1, best_plane: 0, focus_offset_um: 4.0, seed: 9}
"""


@pytest.fixture(scope="module")
def screen_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("screen")
    (work / "screen.yaml").write_text(SCREEN)
    out = snakemake(work, "--cores", "2", *TINY, str(work / "screen.yaml"))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return work


@pytest.mark.e2e
def test_one_model_trained_on_the_training_plate(screen_run):
    results = screen_run / "results"
    for model in ("restormer", "unet"):
        assert (results / "tiny" / "models" / model / "checkpoint.pt").exists()
    assert not list((results / "shot").rglob("checkpoint.pt"))
    assert not (results / "shot" / "dataset").exists()  # no pairs from one plane
    restored = zarr.open_group(str(results / "shot" / "restored" / "restormer.ome.zarr"))
    meta = restored.attrs["platefocus"]
    assert meta["provenance"]["trained_on"] == ["tiny"]
    trained = results / "tiny" / "models" / "restormer" / "checkpoint.pt"
    assert meta["checkpoint_sha256"] == hashlib.sha256(trained.read_bytes()).hexdigest()
    field = restored["A/1/0"]
    assert field["s0"].shape[:2] == (1, 1)  # one channel, one plane: the field's only one


@pytest.mark.e2e
def test_single_plane_plate_is_compared_without_a_reference(screen_run):
    shot = screen_run / "results" / "shot"
    best = pd.read_parquet(shot / "focus" / "best_planes.parquet")
    assert best["qc_flags"].str.contains("single_plane").all()
    fields = pd.read_parquet(shot / "segmentation" / "restormer" / "fields.parquet")
    assert len(fields) == 8 and (fields["reference"] == "none").all()
    assert fields["ssim_raw"].isna().all() and fields["psnr_restored"].isna().all()
    assert (fields["count_raw"] >= 0).all() and fields["sharpness_restored"].gt(0).all()
    # the synthetic plate has true labels: F1 is measured against them
    assert fields["f1_raw"].notna().all() and (fields["truth"] == "true labels").all()
    page = (shot / "summary.html").read_text()
    assert "No in-focus reference" in page and "fields of one plane" in page
    # no in-focus plane to measure its nuclei on: the training plate's in-focus size
    training = pd.read_parquet(
        screen_run / "results" / "tiny" / "segmentation" / "restormer" / "fields.parquet"
    )
    inherited = in_focus_diameter_px(training)
    assert inherited is not None and 10 < inherited < 60
    assert (fields["expected_diameter_from"] == "training plate").all()
    np.testing.assert_allclose(fields["expected_diameter_px"], inherited, rtol=0.05)
    assert "the in-focus planes of the model's training plate" in page


@pytest.mark.e2e
def test_training_plate_keeps_its_reference(screen_run):
    seg = screen_run / "results" / "tiny" / "segmentation" / "restormer"
    fields = pd.read_parquet(seg / "fields.parquet")
    assert (fields["reference"] == "best plane").all() and fields["ssim_raw"].notna().all()


@pytest.mark.e2e
def test_selective_restoration_in_the_workflow(screen_run):
    """Z-stack planes restored at +-2 planes (>= 3 um from the refined best plane) are all
    restored; a single plane's distance is estimated from its sharpness, and it is copied
    exactly when that estimate is within 2 um."""
    for plate, single in (("tiny", False), ("shot", True)):
        root = zarr.open_group(
            str(screen_run / "results" / plate / "restored" / "restormer.ome.zarr")
        )
        for well, field in (("A", "1/0"), ("A", "2/1"), ("A", "4/0")):
            meta = root[f"{well}/{field}"].attrs["platefocus"]
            distances = meta["estimated_defocus_um"]
            assert all(d is not None for d in distances)
            assert meta["restored"] == [d > 2.0 for d in distances]
            if not single:
                assert all(meta["restored"])
    fields = pd.read_parquet(
        screen_run / "results" / "shot" / "segmentation" / "restormer" / "fields.parquet"
    )
    assert fields["estimated_defocus_um"].notna().all()
    # each restored single plane is checked against its observation with the training
    # plate's operator where that has a kernel at its estimated distance (+-2 planes here)
    planes = np.floor(fields["estimated_defocus_um"] / 2.0 + 0.5)
    checked = fields["restored"] & (planes == 2)
    assert checked.any()
    assert fields.loc[checked, "consistency_score"].notna().all()
    assert fields.loc[checked, "operator_dz"].abs().eq(2).all()
    assert fields.loc[~checked, "consistency_score"].isna().all()
    # and set against the training plate's held-out planes at that distance
    ratio = fields.loc[checked, "consistency_vs_held_out"]
    assert ratio.notna().all() and ratio.gt(0).all()
    assert fields.loc[~checked, "consistency_vs_held_out"].isna().all()


def test_twenty_plates_share_one_trained_model_in_a_dry_run(tmp_path):
    """The DAG of a 20-plate screen (discovery tables written as discover_plate writes
    them; no image) trains each model once and restores every plate."""
    import re

    from platefocus.io.atomic import write_table
    from platefocus.io.blocks import write_block_plan

    plates = [f"s{i:02d}" for i in range(20)]
    for plate in plates:
        (tmp_path / "images" / plate).mkdir(parents=True)
        rows = [
            dict(plate=plate, well=f"A{c:02d}", row="A", column=c, site=1, channel=1, z=z,
                 path=f"/data/{plate}/{z}/{c}.tif", shape="64x64", dtype="uint16", field=0)
            for c in range(1, 5)
            for z in range(5)
        ]  # fmt: skip
        table = pd.DataFrame(rows)
        base = tmp_path / "results" / plate
        write_table(table, base / "ingest" / "discovered.parquet")
        write_table(pd.DataFrame(columns=["plate", "well", "site", "path", "problem"]),
                    base / "ingest" / "discovery_qc.tsv")  # fmt: skip
        write_block_plan(table["well"].unique(), 2, base / "blocks.json")
    (tmp_path / "screen.yaml").write_text(
        f"plates: [{', '.join(plates)}]\n"
        "synthetic: {enabled: false}\n"
        f"input: {{root: '{tmp_path}/images/{{plate}}'}}\n"
        "truth: {root: null}\n"
        f"training: {{plates: [{plates[0]}]}}\n"
    )
    out = snakemake(tmp_path, "-n", *TINY, str(tmp_path / "screen.yaml"))
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", out.stdout + out.stderr, flags=re.M))
    assert counts["train_model"] == "2"  # restormer and unet, once for the screen
    assert counts["build_dataset"] == "1" and counts["restore_plate"] == "20"
    assert counts["restore_wells"] == "40"  # 2 blocks of 2 wells per plate
