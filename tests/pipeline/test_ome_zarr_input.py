"""The workflow on an OME-Zarr plate given as input (input.layout: ome-zarr): used in place
(a link, no copy), with focus results identical to those of the run that ingested it."""

from __future__ import annotations

import pytest
import yaml
from conftest import TINY, snakemake


@pytest.mark.e2e
def test_ingested_plate_as_input_gives_the_same_best_planes(tiny_run, tmp_path):
    source = tiny_run / "results" / "tiny" / "plate.ome.zarr"
    config = tmp_path / "input.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "synthetic": {"enabled": False},
                "input": {"root": str(source), "layout": "ome-zarr", "pattern": None},
                "truth": {"root": str(tiny_run / "resources" / "synthetic" / "tiny" / "truth")},
            }
        )
    )
    targets = ["results/tiny/focus/best_planes.parquet", "results/tiny/inspect/summary.txt"]
    out = snakemake(tmp_path, *targets, "--cores", "2", *TINY, str(config))
    assert out.returncode == 0, out.stderr[-3000:]
    plate = tmp_path / "results" / "tiny" / "plate.ome.zarr"
    assert plate.is_symlink() and plate.resolve() == source.resolve()
    best = "results/tiny/focus/best_planes.parquet"
    assert (tmp_path / best).read_bytes() == (tiny_run / best).read_bytes()
    assert "compression OME-Zarr" in (tmp_path / "results/tiny/inspect/summary.txt").read_text()
