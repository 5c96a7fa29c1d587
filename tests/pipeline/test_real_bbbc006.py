"""The real BBBC006 planes as shipped (LZW TIFF, original names) ingested by the workflow
with config/bbbc006.yaml: every plane in the OME-Zarr plate equals what tifffile (with
imagecodecs) decodes from its file."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import tifffile
import yaml
from conftest import REPO, snakemake

from platefocus.io.fields import field_array, list_fields

PLATE = "mcf-z-stacks-03212011"


@pytest.mark.e2e
def test_real_lzw_planes_ingest_with_the_shipped_config(realdata, tmp_path):
    override = tmp_path / "root.yaml"
    override.write_text(yaml.safe_dump({"input": {"root": str(realdata / "bbbc006")}}))
    targets = [f"results/{PLATE}/plate.ome.zarr", f"results/{PLATE}/inspect/summary.txt"]
    out = snakemake(
        tmp_path,
        *targets,
        "--cores",
        "2",
        "--configfile",
        str(REPO / "config" / "bbbc006.yaml"),
        str(override),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    plate = tmp_path / "results" / PLATE / "plate.ome.zarr"
    manifest = pd.read_parquet(tmp_path / "results" / PLATE / "manifest.parquet")
    files = sorted((realdata / "bbbc006").rglob("*.tif"))
    assert len(manifest) == len(files) and manifest["path"].nunique() == len(files)
    for ref in list_fields(manifest):
        row = manifest[(manifest["well"] == ref.well) & (manifest["site"] == ref.site)].iloc[0]
        stored = np.asarray(field_array(plate, ref)[0, 0])
        np.testing.assert_array_equal(stored, tifffile.imread(row["path"]))
        assert re.search(rf"{ref.well.lower()}_s{ref.site}_w1", row["path"])
    summary = (tmp_path / "results" / PLATE / "inspect" / "summary.txt").read_text()
    assert "compression LZW" in summary
