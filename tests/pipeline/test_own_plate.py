"""The "Restore your own plate" how-to (``docs/how-to/own-plate.md``, and the README's
copy of its recipe) runs on the user's files: its config block and its commands, run as
written on a tiny ImageXpress tree (the folder and the workflow's location put in), never
inherit the demo's synthetic plate, and every stored plane equals the file it was read
from."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
import yaml
from conftest import REPO, snakemake

from platefocus.io.fields import field_array, list_fields

PLATE = "myplate"
HOWTO = REPO / "docs" / "how-to" / "own-plate.md"
DOC_ROOT = "/data/myplate"  # the folder the how-to names


def _blocks(markdown: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", markdown, flags=re.S)


def _commands(data: Path) -> list[list[str]]:
    """The how-to's shell commands, with this test's folder for the how-to's."""
    lines = [line for block in _blocks(HOWTO.read_text(), "bash") for line in block.splitlines()]
    return [
        [w.replace(DOC_ROOT, str(data)) for w in shlex.split(line)]
        for line in lines
        if line.strip() and not line.startswith("#")
    ]


def test_the_readme_recipe_is_the_howtos():
    readme = (REPO / "README.md").read_text()
    howto = HOWTO.read_text()
    yaml_blocks = [b.replace("# my.yaml\n", "") for b in _blocks(readme, "yaml")]
    assert yaml_blocks and all(b in howto for b in yaml_blocks)
    for block in _blocks(readme, "bash"):
        for line in block.splitlines():
            if "platefocus inspect" in line or "--configfile my.yaml" in line:
                assert line in howto, line


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
def test_own_plate_howto_reads_the_users_files(tmp_path):
    data = tmp_path / "data" / PLATE
    files = _imagexpress_tree(data, np.random.default_rng(7))
    my = tmp_path / "my.yaml"  # the how-to's config, with this test's folder as root
    config = yaml.safe_load(_blocks(HOWTO.read_text(), "yaml")[0].replace(DOC_ROOT, str(data)))
    assert config["plates"] == [PLATE]
    my.write_text(yaml.safe_dump(config))
    inspect, run = _commands(data)
    assert inspect[0] == ".venv/bin/platefocus" and run[0] == ".venv/bin/snakemake"
    bin_dir = Path(sys.executable).parent
    shown = subprocess.run(
        [str(bin_dir / "platefocus"), *inspect[1:]],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert "2 wells" in shown.stdout or "B03" in shown.stdout, shown.stdout[-2000:]
    assert "WARNING" not in shown.stdout  # the config's sampling agrees with the files
    # The run as the how-to writes it; below with the workflow's folder put in, and with
    # two cores and the first outputs as targets (the tiny tree trains no model).
    assert run[1:] == ["--cores", "all", "--configfile", "my.yaml"], run
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
