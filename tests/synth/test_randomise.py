"""Randomised synthetic physics: per-field draws within their ranges, written to the truth,
seeded, and a plate without ``randomise`` unchanged by the feature."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import tifffile

from platefocus.synth import generate_plate, preset
from platefocus.synth.randomise import field_physics, optics_variants

SMALL = dict(rows=1, columns=3, sites=2, planes=5, best_plane=2.0, height=64, width=64)
RANGES = {
    "numerical_aperture": [0.35, 0.6],
    "diameter_um": [12.0, 24.0],
    "peak_electrons": [1000.0, 3000.0],
    "optics_variants": 3,
}


def _digest(folder) -> str:
    files = sorted(p for p in folder.rglob("*.tif"))
    return hashlib.sha256(b"".join(tifffile.imread(p).tobytes() for p in files)).hexdigest()


def test_fields_draw_their_physics_within_the_ranges(tmp_path):
    spec = preset("demo", **SMALL, randomise=RANGES)
    assert [o.numerical_aperture for o in optics_variants(spec)] == pytest.approx(
        [0.35, 0.475, 0.6]
    )
    plate = generate_plate(spec, tmp_path / "p", progress=False)
    physics = pd.read_csv(plate / "truth" / "field_physics.csv")
    assert len(physics) == 6
    assert physics["numerical_aperture"].isin([0.35, 0.475, 0.6]).all()
    assert physics["diameter_um"].between(12, 24).all() and physics["diameter_um"].nunique() == 6
    assert physics["peak_electrons"].between(1000, 3000).all()
    again = generate_plate(spec, tmp_path / "q", progress=False)
    assert _digest(plate) == _digest(again)  # seeded


def test_wider_aperture_blurs_more_at_the_same_distance():
    spec = preset(
        "demo", **SMALL, randomise={"numerical_aperture": [0.3, 0.6], "optics_variants": 2}
    )
    narrow, wide = optics_variants(spec)
    assert wide.blur_radius_px(10.0) > 1.5 * narrow.blur_radius_px(10.0)
    draws = {field_physics(spec, w, s).variant for w in range(8) for s in (1, 2)}
    assert draws == {0, 1}


def test_plate_without_randomise_is_unchanged_by_it(tmp_path):
    plain = generate_plate(preset("demo", **SMALL), tmp_path / "a", progress=False)
    empty = generate_plate(preset("demo", **SMALL, randomise={}), tmp_path / "b", progress=False)
    assert _digest(plain) == _digest(empty)
    assert not (plain / "truth" / "field_physics.csv").exists()
    assert "randomise" not in (plain / "truth" / "spec.json").read_text()


@pytest.mark.parametrize(
    "bad", [{"aperture": [0.3, 0.5]}, {"numerical_aperture": [0.6, 0.3]}, {"optics_variants": 0}]
)
def test_bad_ranges_are_named(bad):
    with pytest.raises(ValueError, match="randomise"):
        preset("demo", **SMALL, randomise=bad)


def test_randomised_fields_differ_in_blur(tmp_path):
    """Two fields imaged with the narrowest and the widest aperture: the far plane of the
    wide one is smoother (less gradient energy per unit signal)."""
    spec = preset(
        "demo",
        **{**SMALL, "columns": 4},
        randomise={"numerical_aperture": [0.3, 0.7], "optics_variants": 2},
    )
    plate = generate_plate(spec, tmp_path / "p", progress=False)
    physics = pd.read_csv(plate / "truth" / "field_physics.csv")
    assert physics["numerical_aperture"].nunique() == 2
    sharpness = {}
    for row in physics.itertuples():
        (path,) = plate.glob(f"images/*_z_00/*_{row.well}_s{row.site}_w1*.tif")
        image = tifffile.imread(path).astype(float)
        signal = image - np.percentile(image, 10)
        sharpness.setdefault(row.numerical_aperture, []).append(
            np.mean(np.square(np.diff(image, axis=1))) / max(signal.mean(), 1e-9) ** 2
        )
    assert np.median(sharpness[0.7]) < np.median(sharpness[0.3])


def test_bottom_mismatch_adds_aberrated_variants_focused_at_the_best_plane(tmp_path):
    """Each aperture again with spherical aberration (half the fields stay unaberrated),
    written to the truth; an aberrated field is still sharpest at its best plane, since
    the PSF's defocus is counted from its sharpest plane, not the paraxial focus."""
    ranges = {"numerical_aperture": [0.4, 0.5], "bottom_mismatch_um": [400, 800]}
    spec = preset("demo", **{**SMALL, "columns": 4}, randomise={**ranges, "optics_variants": 2})
    variants = [(o.numerical_aperture, o.bottom_mismatch_um) for o in optics_variants(spec)]
    np.testing.assert_allclose(variants, [(0.4, 0.0), (0.5, 0.0), (0.4, 800.0), (0.5, 400.0)])
    plate = generate_plate(spec, tmp_path / "p", progress=False)
    physics = pd.read_csv(plate / "truth" / "field_physics.csv")
    assert set(physics["bottom_mismatch_um"]) <= {0.0, 800.0, 400.0}
    aberrated = physics[physics["bottom_mismatch_um"] != 0]
    # every well holds an aberrated and an unaberrated field (its two sites)
    assert (physics.groupby("well")["bottom_mismatch_um"].apply(lambda m: (m > 0).sum()) == 1).all()
    assert len(aberrated) == len(physics) // 2
    best = pd.read_csv(plate / "truth" / "best_planes.csv").query("tile == 'field'")
    best = best.set_index(["well", "site"])["best_z"]
    for row in aberrated.itertuples():
        tenengrad = []
        for z in range(SMALL["planes"]):
            (path,) = plate.glob(f"images/*_z_{z:02d}/*_{row.well}_s{row.site}_w1*.tif")
            image = tifffile.imread(path).astype(float)
            tenengrad.append(np.mean(np.square(np.diff(image, axis=0))))
        # the paraxial focus lies 7-8 um (4 planes) away; the field's own best plane
        # (jitter and tilt) or a neighbour is the sharpest, within 1 % (a broad aberrated
        # PSF makes near planes tie)
        z = round(best[row.well, row.site])
        assert max(tenengrad[max(0, z - 1) : z + 2]) >= 0.99 * max(tenengrad), (z, tenengrad)


@pytest.mark.parametrize("bad", [[500, 100], [-200, 500]])
def test_bottom_mismatch_range_may_start_at_zero_not_below(bad):
    preset("demo", **SMALL, randomise={"bottom_mismatch_um": [0, 500]})
    with pytest.raises(ValueError, match=r"randomise\.bottom_mismatch_um"):
        preset("demo", **SMALL, randomise={"bottom_mismatch_um": bad})
