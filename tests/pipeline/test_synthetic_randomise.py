"""``synthetic.randomise`` reaches the generator: the tiny plate, made with a range of
apertures, records each field's physics in its truth; a config without it schedules the
same synthesis as before (no new params)."""

from __future__ import annotations

import pandas as pd
import yaml
from conftest import TINY, snakemake


def test_randomise_reaches_the_synthetic_plate(tmp_path):
    extra = tmp_path / "randomise.yaml"
    extra.write_text(
        yaml.safe_dump(
            {"synthetic": {"randomise": {"numerical_aperture": [0.35, 0.55], "optics_variants": 2}}}
        )
    )
    target = "resources/synthetic/tiny"
    out = snakemake(tmp_path, target, "--cores", "2", *TINY, str(extra))
    assert out.returncode == 0, out.stderr[-3000:]
    physics = pd.read_csv(tmp_path / target / "truth" / "field_physics.csv")
    assert set(physics["numerical_aperture"]) <= {0.35, 0.55} and len(physics) == 8
    plain = snakemake(tmp_path, target, "-n", *TINY)
    assert "synthesize_plate" in plain.stdout  # the params changed: the plate is remade
