"""Defocus calibration: the aperture fit recovers the aperture a pair was blurred with,
isolated-nucleus profiles measure a known blob, and the real pair has a measurable blur."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from platefocus.consistency.calibrate import (
    convolve_reflect,
    fit_aperture,
    isolated_nucleus_profiles,
)
from platefocus.synth.psf import Optics, widefield_psf

APERTURES = [0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65]


def _nuclei_field(rng, shape=(200, 240), count=14) -> np.ndarray:
    field = np.zeros(shape)
    yy, xx = np.indices(shape)
    for cy, cx in rng.uniform(20, np.array(shape) - 20, size=(count, 2)):
        field += 1000.0 * (np.hypot(yy - cy, xx - cx) < rng.uniform(8, 14))
    return ndimage.gaussian_filter(field, 1.0) + 150.0


@pytest.mark.parametrize("aperture", [0.4, 0.55])
def test_fit_recovers_the_aperture_of_a_pair(aperture):
    rng = np.random.default_rng(3)
    near = _nuclei_field(rng)
    optics = Optics()
    kernel = widefield_psf(Optics(numerical_aperture=aperture), np.array([-24.0]), 201)[0]
    far = 0.8 * convolve_reflect(near, kernel) + 20.0 + rng.normal(0, 3.0, near.shape)
    table = fit_aperture(near, far, -24.0, optics, APERTURES)
    best = table[table["best"]].iloc[0]
    assert best["numerical_aperture"] == pytest.approx(aperture)
    assert best["residual"] < 1.3 and best["gain"] == pytest.approx(0.8, rel=0.05)
    assert table["residual"].max() > 2 * best["residual"]  # too narrow and too wide both fail
    assert (np.diff(table["ee50_px"]) > 0).all()  # wider aperture, wider kernel


def test_isolated_profile_measures_a_known_blob_and_skips_crowded_ones():
    shape = (300, 300)
    yy, xx = np.indices(shape)
    sigma = 9.0
    plane = np.full(shape, 100.0)
    blobs = [(80, 80), (220, 220), (220, 240)]  # the last two crowd each other
    for cy, cx in blobs:
        plane += 400.0 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2))
    labels = np.zeros(shape, int)
    for k, (cy, cx) in enumerate(blobs, start=1):
        labels[np.hypot(yy - cy, xx - cx) < 6] = k
    table = isolated_nucleus_profiles(plane, labels, clearance_px=60, radius_px=50)
    assert len(table) == 1 and table.iloc[0]["y"] == pytest.approx(80, abs=0.5)
    assert table.iloc[0]["hwhm_px"] == pytest.approx(sigma * np.sqrt(2 * np.log(2)), abs=0.6)
    assert table.iloc[0]["peak_over_background"] == pytest.approx(5.0, rel=0.05)


def test_the_real_pair_has_a_measurable_blur(realdata):
    """The real (near focus, 32 um) pair: the residual is smallest at an interior aperture,
    well below a too-narrow kernel's (the blur is measured, not pinned at a bound)."""
    import imageio.v3 as iio
    import tifffile

    calibration = realdata / "bbbc006_calibration"
    near = iio.imread(next((calibration / "near_focus").glob("*a01__s1*.png"))).astype(float)
    far = tifffile.imread(next((calibration / "pair_a01_s1").glob("*.tif"))).astype(float)
    table = fit_aperture(near, far, -32.0, Optics(), [0.3, 0.45, 0.55, 0.65, 0.8])
    best = table[table["best"]].iloc[0]
    assert 0.3 < best["numerical_aperture"] < 0.8
    assert best["residual"] < 0.7 * table["residual"].iloc[0]
