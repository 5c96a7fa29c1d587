"""Values the schema accepts but that cannot work stop the run before any job, with the
key named (they used to fail late, after training, without it)."""

from __future__ import annotations

import pytest
from conftest import REPO, snakemake


@pytest.mark.parametrize(
    "bad, message",
    [
        ("restore: {tile: 64, overlap: 64}", "restore: overlap must be >= 0 and < tile"),
        ("restore: {model: resnet}", "restore.model: 'resnet' is not trained"),
        ("segmentation: {diameter_px: [40, 10]}", "segmentation: diameter_px must be 0 < min"),
        ("input: {layout: operetta, pattern: 'x'}", "input.pattern: given with input.layout"),
    ],
)
def test_bad_value_stops_the_dry_run_with_the_key_named(tmp_path, bad, message):
    (tmp_path / "bad.yaml").write_text(bad + "\n")
    out = snakemake(
        tmp_path,
        "-n",
        "--configfile",
        str(REPO / "config" / "config.yaml"),
        str(tmp_path / "bad.yaml"),
    )
    assert out.returncode != 0
    assert message in out.stderr + out.stdout
