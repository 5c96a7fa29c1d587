"""The widefield PSF: energy, symmetry, spread with defocus, against optics."""

import numpy as np
import pytest

from platefocus.synth.psf import (
    Optics,
    best_focus_um,
    psf_to_otf,
    raw_widefield_psf,
    widefield_psf,
)

OPTICS = Optics(numerical_aperture=0.75, emission_wavelength_um=0.46, pixel_size_um=0.65)
DEFOCUS = np.array([-12.0, -6.0, -2.0, 0.0, 2.0, 6.0, 12.0])


@pytest.fixture(scope="module")
def raw():
    return raw_widefield_psf(OPTICS, DEFOCUS, 81)


def rms_radius(psf: np.ndarray) -> np.ndarray:
    n = psf.shape[-1]
    yy, xx = np.mgrid[:n, :n] - n // 2
    return np.sqrt((psf * (yy**2 + xx**2)).sum((1, 2)) / psf.sum((1, 2)))


def test_energy_conserved_across_defocus(raw):
    # Every plane of a widefield stack carries the same light; the model's own pixel
    # integration is approximate at focus, hence a few percent.
    sums = raw.sum(axis=(1, 2))
    assert np.all(np.abs(sums / sums.mean() - 1) < 0.05), sums


def test_normalised_slices_sum_to_one():
    psf = widefield_psf(OPTICS, DEFOCUS, 81)
    np.testing.assert_allclose(psf.sum(axis=(1, 2)), 1.0, rtol=1e-12)


def test_symmetric_laterally_and_about_focus(raw):
    for s in raw:
        np.testing.assert_allclose(s, s[::-1, :], rtol=1e-6, atol=1e-12 * s.max())
        np.testing.assert_allclose(s, s.T, rtol=1e-6, atol=1e-12 * s.max())
    # index-matched sample: defocus -d and +d give the same slice
    np.testing.assert_allclose(raw[0], raw[-1], rtol=1e-6, atol=1e-9 * raw[0].max())
    np.testing.assert_allclose(raw[2], raw[4], rtol=1e-6, atol=1e-9 * raw[2].max())


def test_wider_away_from_focus(raw):
    r = rms_radius(raw)
    focus = len(DEFOCUS) // 2
    assert np.all(np.diff(r[focus:]) > 0)
    assert np.all(np.diff(r[: focus + 1]) < 0)
    # peak falls as the light spreads
    peaks = raw.max(axis=(1, 2))
    assert peaks[focus] > 5 * peaks[-1]


def test_blur_matches_geometric_optics():
    # Far from focus the blur is a disk of radius d * tan(asin(NA)); a uniform disk has
    # an RMS radius of R / sqrt(2).
    d = 20.0
    psf = raw_widefield_psf(OPTICS, [d], 121)
    expected = OPTICS.blur_radius_px(d) / np.sqrt(2)
    assert rms_radius(psf)[0] == pytest.approx(expected, rel=0.15)


def test_in_focus_width_follows_diffraction():
    # Airy core FWHM ~ 0.51 lambda / NA; sampled at 0.1 um to resolve it.
    fine = Optics(numerical_aperture=0.75, emission_wavelength_um=0.46, pixel_size_um=0.05)
    s = raw_widefield_psf(fine, [0.0], 61)[0]
    profile = s[30] / s[30].max()
    above = np.nonzero(profile >= 0.5)[0]
    fwhm_um = (above[-1] - above[0] + 1) * 0.05
    assert fwhm_um == pytest.approx(0.51 * 0.46 / 0.75, rel=0.25)


def test_otf_convolution_matches_direct():
    from scipy.signal import fftconvolve

    psf = widefield_psf(OPTICS, [4.0], 31)
    rng = np.random.default_rng(0)
    img = np.zeros((96, 96))
    img[30:60, 30:60] = rng.random((30, 30))
    otf = psf_to_otf(psf, img.shape)[0]
    fast = np.fft.irfft2(np.fft.rfft2(img) * otf, s=img.shape)
    direct = fftconvolve(img, psf[0], mode="same")
    np.testing.assert_allclose(fast, direct, atol=1e-5 * img.max())


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(numerical_aperture=1.2),
        dict(pixel_size_um=0.0),
        dict(z_step_um=-1),
        dict(bottom_mismatch_um=-10.0),
    ],
)
def test_bad_optics_rejected(kwargs):
    with pytest.raises(ValueError):
        Optics(**kwargs)


def test_even_size_rejected():
    with pytest.raises(ValueError, match="odd"):
        raw_widefield_psf(OPTICS, [0.0], 32)


def test_thick_bottom_makes_the_two_sides_of_focus_differ():
    # Spherical aberration of glass the objective is not corrected for: the sharpest plane
    # moves off the paraxial focus, and 32 um to one side the light spreads farther (a
    # core and wide wings) than 32 um to the other (a compact disk); without it, neither.
    from platefocus.consistency.operator import kernel_width_px, physical_kernel

    corrected = Optics(numerical_aperture=0.45)
    thick = Optics(numerical_aperture=0.45, bottom_mismatch_um=800.0)
    assert best_focus_um(corrected) == 0.0
    assert abs(best_focus_um(thick)) >= 2.0
    ee80 = {
        (o, side): kernel_width_px(physical_kernel(o, side * 32.0, 81), 0.8)
        for o in (corrected, thick)
        for side in (-1, 1)
    }
    assert ee80[corrected, -1] == pytest.approx(ee80[corrected, 1], rel=1e-6)
    wide, narrow = max(ee80[thick, -1], ee80[thick, 1]), min(ee80[thick, -1], ee80[thick, 1])
    assert wide > 1.5 * narrow
    assert narrow < ee80[corrected, 1] < wide
