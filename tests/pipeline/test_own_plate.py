"""The README's "Your own plate" recipe runs on the user's files: a config of one's own
(``--configfile my.yaml``, nothing else) never inherits the demo's synthetic plate. A tiny
ImageXpress tree goes through discovery and ingest, and every stored plane equals the
file it was read from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tifffile
import yaml
from conftest import snakemake

from platefocus.io.fields import field_array, list_fields

PLATE = "myplate"


def _source_line(stderr: str) -> str:
    """The run's first own line (after Snakemake's note of the profile it uses)."""
    lines = [line for line in stderr.splitlines() if not line.startswith("Using ")]
    assert lines and lines[0].startswith("platefocus: "), stderr[:2000]
    return lines[0]


def _imagexpress_tree(root, rng) -> dict[str, np.ndarray]:
    """Two wells x one site x one wavelength x 3 Z steps, MetaXpress names (GUID suffix)."""
    files = {}
    for well in ("B03", "B04"):
        for z in (1, 2, 3):
            path = root / "TimePoint_1" / f"ZStep_{z}" / f"{PLATE}_{well}_s1_w1A1B2C3D4.tif"
            path.parent.mkdir(parents=True, exist_ok=True)
            pixels = rng.integers(100, 4000, size=(48, 64), dtype=np.uint16)
            tifffile.imwrite(path, pixels)
            files[str(path)] = pixels
    return files


@pytest.mark.e2e
def test_readme_own_plate_recipe_reads_the_users_files(tmp_path):
    data = tmp_path / "data" / PLATE
    files = _imagexpress_tree(data, np.random.default_rng(7))
    my = tmp_path / "my.yaml"  # the README's recipe, with this test's folder as root
    my.write_text(
        yaml.safe_dump(
            {
                "plates": [PLATE],
                "input": {"root": str(data), "layout": "imagexpress"},
                "acquisition": {"pixel_size_um": 0.65, "z_step_um": 2.0},
            }
        )
    )
    dry = snakemake(tmp_path, "-n", "--configfile", str(my))
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "synthesize_plate" not in dry.stdout + dry.stderr
    first = _source_line(dry.stderr)
    assert "acquired images read from" in first and str(data) in first, first

    targets = [f"results/{PLATE}/plate.ome.zarr", f"results/{PLATE}/inspect/summary.txt"]
    out = snakemake(tmp_path, *targets, "--cores", "2", "--configfile", str(my))
    assert out.returncode == 0, out.stderr[-3000:]
    assert not (tmp_path / "resources" / "synthetic").exists()
    summary = (tmp_path / "results" / PLATE / "inspect" / "summary.txt").read_text()
    assert summary.splitlines()[0].startswith(f"platefocus: plate(s) {PLATE}: acquired")

    plate = tmp_path / "results" / PLATE / "plate.ome.zarr"
    manifest = pd.read_parquet(tmp_path / "results" / PLATE / "manifest.parquet")
    assert sorted(manifest["path"]) == sorted(files)
    for ref in list_fields(manifest):
        stack = np.asarray(field_array(plate, ref))  # (c, z, y, x)
        rows = manifest[(manifest["well"] == ref.well) & (manifest["site"] == ref.site)]
        for z, row in enumerate(rows.sort_values("z").itertuples()):
            np.testing.assert_array_equal(stack[0, z], files[row.path])


def test_demo_run_says_its_plate_is_synthetic(tmp_path):
    """The default run (no --configfile) is the demo, and its first line says the plate is
    generated, not acquired."""
    dry = snakemake(tmp_path, "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert _source_line(dry.stderr).startswith("platefocus: SYNTHETIC plate(s) demo")
    assert "synthesize_plate" in dry.stdout
