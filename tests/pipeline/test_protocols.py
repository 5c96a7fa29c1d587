"""The published experiments' protocols (config/protocols/), each run tiny end to end:
the protocol's own config, merged over the default, with a tiny plate and budget."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import REPO, snakemake

#: The tiny plate and budget merged over a protocol (its structure stays: plate name,
#: models and their losses, targets, which offsets train and which are restored).
TINY_PLATE = {
    "synthetic": {
        "overrides": {
            "rows": 1,
            "columns": 4,
            "sites": 2,
            "channels": 1,
            "planes": 9,
            "best_plane": 4.0,
            "height": 128,
            "width": 128,
        }
    },
    "ingest": {"threads": 2},
    "targets": {"min_objects": 1},
    "dataset": {"patch_size": 32, "stride": 32},
    "training": {"epochs": 2, "max_steps_per_epoch": 3},
    "restore": {"tile": 64, "overlap": 16},
    "comparison": {"inference_side": 64, "repeats": 1},
    "blocks": {"wells_per_job": 2},
}


def merged(base: dict, extra: dict) -> dict:
    """``extra`` merged into ``base``, section by section (as Snakemake merges configs)."""
    out = dict(base)
    for key, value in extra.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = merged(out[key], value) if both else value
    return out


def run_protocol(tmp_path, protocol: str, tiny: dict):
    import yaml

    override = tmp_path / "tiny.yaml"
    override.write_text(yaml.safe_dump(merged(TINY_PLATE, tiny)))
    configs = [REPO / "config" / "config.yaml", REPO / "config" / "protocols" / protocol]
    out = snakemake(tmp_path, "--cores", "2", "--configfile", *map(str, configs), str(override))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


@pytest.mark.e2e
def test_refocus_protocol_trains_on_one_side_and_tests_every_plane(tmp_path):
    """Trained on two offsets below focus, evaluated on every plane of the stack: the
    per-offset table marks which offsets training held, in micrometres, both sides."""
    run_protocol(
        tmp_path,
        "refocus.yaml",
        # the protocol's z = 1, 5, 10 -> 16 of 34 planes, scaled to 9 planes (best 4)
        {
            "dataset": {
                "offsets": [-4, -3, -2, -1, 1, 2, 3, 4],
                "train_offsets": [-3, -2],
                "split_fractions": [0.5, 0.17, 0.33],
            },
            "training": {
                "models": {
                    name: {"backbone": "resnet10", "decoder_channels": [32, 16, 16, 8, 8]}
                    for name in ("refocus_unet", "refocus_unet_ssim")
                }
            },
            "comparison": {"example_z": [1, 8]},
        },
    )
    results = tmp_path / "results" / "refocus"
    models = pd.read_csv(results / "comparison/models.tsv", sep="\t").set_index("model")
    assert models.loc["refocus_unet", "architecture"] == "refocus_unet"
    assert models.loc["refocus_unet", "loss"] == "feature 0.8 + l1 0.2"
    assert models.loc["refocus_unet_ssim", "loss"] == "ssim 0.7 + l1 0.1 + mse 0.2"
    offsets = pd.read_csv(results / "comparison/offsets.tsv", sep="\t")
    # each model also after the data-consistency projection (the operator is estimated)
    assert list(dict.fromkeys(offsets["model"])) == [
        "input (no restoration)",
        "refocus_unet",
        "refocus_unet + projection",
        "refocus_unet_ssim",
        "refocus_unet_ssim + projection",
    ]
    # every plane was restored; each field's best plane moves with tilt and jitter
    assert {-3, -2, -1, 0, 1, 2, 3} <= set(offsets["dz"])
    assert set(offsets.loc[offsets["in_training"], "dz"]) == {-3, -2}
    assert (offsets["dz_um"] == 2.0 * offsets["dz"]).all()
    assert set(offsets["side"]) == {"below", "focus", "above"}
    assert offsets[["psnr", "ssim", "f1", "count_error"]].notna().all().all()
    for figure in ("offsets.png", "examples.png"):
        assert (results / "comparison" / figure).stat().st_size > 20_000, figure
    page = (results / "summary.html").read_text()
    assert "Per offset from focus" in page and "Offsets training never saw" in page
    assert "Restored examples beside the truth" in page


@pytest.mark.e2e
def test_restormer_blog_protocol_trains_an_ssim_and_an_mse_model(tmp_path):
    """One Restormer per loss, side by side: each loss in the table and the page, and each
    model's paired SSIM and counts before/after."""
    run_protocol(
        tmp_path,
        "restormer_blog.yaml",
        {
            "dataset": {"offsets": [-3, -2, 2, 3]},
            "training": {
                "models": {
                    "restormer_ssim": {"levels": 2, "width": 8},
                    "restormer_mse": {"levels": 2, "width": 8},
                }
            },
            "restore": {"planes": {"mode": "offsets", "offsets": [-3, -2, 2, 3]}},
        },
    )
    results = tmp_path / "results" / "blog"
    models = pd.read_csv(results / "comparison/models.tsv", sep="\t").set_index("model")
    # the default config's models are removed (null), only the protocol's are trained
    assert list(models.index) == ["restormer_ssim", "restormer_mse", "input (no restoration)"]
    assert models.loc["restormer_ssim", "loss"] == "ssim 1"
    assert models.loc["restormer_mse", "loss"] == "mse 1"
    for model in ("restormer_ssim", "restormer_mse"):
        figures = results / "segmentation" / model / "figures"
        assert (figures / "paired_ssim.png").stat().st_size > 10_000
        assert (figures / "counts_per_well.png").stat().st_size > 10_000
    offsets = pd.read_csv(results / "comparison/offsets.tsv", sep="\t")
    assert set(offsets["dz"]) == {-3, -2, 2, 3} and offsets["in_training"].all()
    page = (results / "summary.html").read_text()
    assert "ssim 1" in page and "mse 1" in page
