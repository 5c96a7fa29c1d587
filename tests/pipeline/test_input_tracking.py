"""Input planes are inputs of discover_plate: a fixed, added or removed file is picked up
on rerun (it used to say "Nothing to be done")."""

from __future__ import annotations

import shutil
import time

import pytest
import tifffile
import yaml
from conftest import REPO, snakemake


@pytest.mark.e2e
def test_changed_input_file_reruns_discovery(tiny_plate, tmp_path):
    images = tmp_path / "input"
    shutil.copytree(tiny_plate / "images", images)
    (tmp_path / "c.yaml").write_text(
        yaml.safe_dump(
            {
                "plates": ["tiny"],
                "synthetic": {"enabled": False},
                "input": {"root": str(images)},
                "truth": {"root": None},
                "blocks": {"wells_per_job": 2},
            }
        )
    )
    args = ("--configfile", str(REPO / "config" / "config.yaml"), str(tmp_path / "c.yaml"))
    target = "results/tiny/manifest.parquet"
    out = snakemake(tmp_path, target, "--cores", "2", *args)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Nothing to be done" in snakemake(tmp_path, target, "-n", *args).stdout

    fixed = sorted(images.rglob("*.tif"))[0]
    # the user replaces a file, later than the outputs (a modification time set into the
    # future instead made the rerun's outputs older than it: Snakemake's clock-skew error)
    time.sleep(1.1)
    tifffile.imwrite(fixed, tifffile.imread(fixed) + 1)
    rerun = snakemake(tmp_path, target, "-n", *args).stdout
    assert "discover_plate" in rerun and "ingest_plate" in rerun

    out = snakemake(tmp_path, target, "--cores", "2", *args)
    assert out.returncode == 0, out.stderr[-2000:]
    sorted(images.rglob("*.tif"))[-1].unlink()  # a removed plane: discovery must see it
    assert "discover_plate" in snakemake(tmp_path, target, "-n", *args).stdout
