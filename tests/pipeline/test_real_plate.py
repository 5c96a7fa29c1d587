"""Real pixels end to end: the cells3d confocal stack cut into 4 wells runs through the
whole workflow (ingest, focus, dataset, training, restore, segmentation, report), split by
well, and the restored planes of the held-out well are closer to its best plane than the
defocused input (SSIM)."""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest
from conftest import BIN, REPO, snakemake

CELLS3D = (
    "--configfile",
    str(REPO / "config" / "config.yaml"),
    str(REPO / "config" / "cells3d.yaml"),
)


@pytest.mark.e2e
def test_cells3d_plate_end_to_end(realdata, tmp_path):
    cut = subprocess.run(
        [
            str(BIN / "platefocus"),
            "cut-stack",
            "--stack",
            str(realdata / "cells3d" / "nuclei.tif"),
            "--output",
            str(tmp_path / "resources" / "cells3d"),
            "--grid",
            "2",
            "2",
            "--plate",
            "cells3d",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cut.returncode == 0, cut.stderr
    out = snakemake(tmp_path, "--cores", "2", *CELLS3D, timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    base = tmp_path / "results" / "cells3d"
    assert (base / "summary.html").exists() and (base / "inspect" / "plate_map.png").exists()
    pairs = pd.read_parquet(base / "dataset" / "pairs.parquet")
    splits = pairs.groupby("split")["well"].unique()
    assert {"train", "val", "test"} <= set(splits.index)
    assert not set(splits["test"]) & set(splits["train"])  # split by well
    summary = pd.read_csv(base / "segmentation" / "restormer" / "summary.tsv", sep="\t")
    held_out = summary[(summary["split"] == "test") & (summary["abs_dz"] == "all")].iloc[0]
    assert held_out["ssim_restored"] > held_out["ssim_raw"], held_out.to_dict()
