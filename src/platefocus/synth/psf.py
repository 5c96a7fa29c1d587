"""Widefield defocus point spread function from optics.

The scalar Gibson-Lanni model is evaluated by ``psfmodels`` (Lambert's C++ port of the
model of Gibson & Lanni, JOSA A 8 (1991) 1601); this module only chooses its parameters
and converts it to optical transfer functions for convolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Optics:
    """Objective, sample and camera geometry.

    Attributes
    ----------
    numerical_aperture : float
        Objective NA (dimensionless); must not exceed ``immersion_ri``.
    emission_wavelength_um : float
        Emission wavelength in micrometres (Hoechst: 0.46).
    immersion_ri : float
        Refractive index of the immersion medium (air: 1.0). The sample is taken to be
        index-matched, so the PSF is symmetric about focus.
    pixel_size_um : float
        Pixel size in the sample plane, micrometres.
    z_step_um : float
        Distance between planes of a Z-stack, micrometres.
    """

    # BBBC006 was acquired with a 20x objective; NA 0.45 (the common 20x long-working-distance
    # air objective) matches its defocused planes (benchmarks/bench_synthetic_vs_real.py).
    numerical_aperture: float = 0.45
    emission_wavelength_um: float = 0.46
    immersion_ri: float = 1.0
    pixel_size_um: float = 0.65
    z_step_um: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.numerical_aperture <= self.immersion_ri:
            raise ValueError(
                f"numerical_aperture must be in (0, immersion_ri={self.immersion_ri}], "
                f"got {self.numerical_aperture}"
            )
        for name in ("emission_wavelength_um", "pixel_size_um", "z_step_um"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")

    def blur_radius_px(self, defocus_um: float) -> float:
        """Geometric radius of the defocus blur disk, in pixels."""
        half_angle = np.arcsin(self.numerical_aperture / self.immersion_ri)
        return abs(defocus_um) * np.tan(half_angle) / self.pixel_size_um


def widefield_psf(optics: Optics, defocus_um: np.ndarray, size_px: int) -> np.ndarray:
    """Scalar widefield PSF at the given defocus distances.

    Parameters
    ----------
    optics : Optics
        Optical parameters.
    defocus_um : (D,) array_like
        Distance of the point source from the focal plane, micrometres.
    size_px : int
        Lateral size of each PSF slice in pixels (odd, so the centre is a pixel).

    Returns
    -------
    psf : (D, size_px, size_px) float64
        Each slice normalised to unit sum: a widefield system conserves the energy of
        every plane, and the model's own sums agree within a few percent (its pixel
        integration is approximate near focus; see ``tests/test_psf.py``).
    """
    psf = raw_widefield_psf(optics, defocus_um, size_px)
    return psf / psf.sum(axis=(1, 2), keepdims=True)


def raw_widefield_psf(optics: Optics, defocus_um: np.ndarray, size_px: int) -> np.ndarray:
    """The un-normalised model output of :func:`widefield_psf` (for tests and QC)."""
    import psfmodels  # imported here: only synthesis needs it

    if size_px % 2 == 0:
        raise ValueError(f"size_px must be odd, got {size_px}")
    z = np.atleast_1d(np.asarray(defocus_um, dtype=float))
    n = optics.immersion_ri
    return psfmodels.make_psf(
        z,
        size_px,
        dxy=optics.pixel_size_um,
        NA=optics.numerical_aperture,
        wvl=optics.emission_wavelength_um,
        ns=n,
        ni=n,
        ni0=n,
        model="scalar",
        normalize=False,
        oversample_factor=7,
    )


def psf_size_for(optics: Optics, max_defocus_um: float, margin_px: int = 8) -> int:
    """Odd lateral PSF size that holds the blur disk at ``max_defocus_um`` plus a margin."""
    radius = int(np.ceil(optics.blur_radius_px(max_defocus_um))) + margin_px
    return 2 * radius + 1


def centred_transfer(kernels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Real-FFT transfer functions (D, Y, X // 2 + 1), complex128, of centred (D, P, P)
    kernels on a canvas of ``shape``: ``irfft2(rfft2(image) * H)`` is the circular
    convolution with each kernel. ``P`` must not exceed either canvas dimension."""
    d, p, _ = kernels.shape
    if p > min(shape):
        raise ValueError(f"kernel of {p} px does not fit a canvas of {shape}")
    padded = np.zeros((d, *shape), dtype=np.float64)
    padded[:, :p, :p] = kernels
    padded = np.roll(padded, (-(p // 2), -(p // 2)), axis=(1, 2))
    return np.fft.rfft2(padded)


def psf_to_otf(psf: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Real-FFT transfer functions of centred PSF slices for a canvas of ``shape``.

    Parameters
    ----------
    psf : (D, P, P) float
        Centred PSF slices; ``P`` must not exceed either canvas dimension.
    shape : (Y, X)
        Canvas shape in pixels.

    Returns
    -------
    otf : (D, Y, X // 2 + 1) complex64
        ``irfft2(rfft2(image) * otf)`` is the circular convolution with each slice.
    """
    return centred_transfer(psf, shape).astype(np.complex64)
