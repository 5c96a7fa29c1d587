"""Widefield defocus point spread function from optics.

The scalar Gibson-Lanni model is evaluated by ``psfmodels`` (Lambert's C++ port of the
model of Gibson & Lanni, JOSA A 8 (1991) 1601); this module only chooses its parameters
and converts it to optical transfer functions for convolution.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

#: The design coverslip of the model's objective, micrometres (psfmodels' default).
DESIGN_COVERSLIP_UM = 170.0
#: Glass beyond the design the model accepts, micrometres (a 1.67 mm plate bottom).
MAX_BOTTOM_MISMATCH_UM = 1500.0
#: Refractive index of the coverslip or plate bottom (glass).
BOTTOM_RI = 1.5
#: The sharpest plane is the one where a disk this wide (pixels; a nucleus) is sharpest.
SHARPEST_FOR_DIAMETER_PX = 30.0
#: An aberrated PSF's size holds this fraction of its light (:func:`psf_size_for`) ...
ABERRATED_ENERGY = 0.995
#: ... measured on a canvas this many times the geometric blur disk.
ABERRATED_CANVAS = 3.0


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
    bottom_mismatch_um : float
        Glass (index 1.5) between objective and sample beyond what the objective is
        corrected for, micrometres: a plate bottom thicker than the design coverslip
        (0 to ``MAX_BOTTOM_MISMATCH_UM``). It adds spherical aberration, so the PSF
        differs between the two sides of focus (one spreads wider, with a core and
        wings; the other stays a compact disk) and the sharpest plane moves
        (:func:`best_focus_um`). 0 (the default): none, and the PSF is symmetric about
        focus. Glass thinner than the design (the sign reversed) is not modelled: its
        sharpest plane is too flat to define well.
    """

    # BBBC006 was acquired with a 20x objective; NA 0.45 (the common 20x long-working-distance
    # air objective) matches its defocused planes (benchmarks/bench_synthetic_vs_real.py).
    numerical_aperture: float = 0.45
    emission_wavelength_um: float = 0.46
    immersion_ri: float = 1.0
    pixel_size_um: float = 0.65
    z_step_um: float = 2.0
    bottom_mismatch_um: float = 0.0

    def __post_init__(self) -> None:
        if not 0 < self.numerical_aperture <= self.immersion_ri:
            raise ValueError(
                f"numerical_aperture must be in (0, immersion_ri={self.immersion_ri}], "
                f"got {self.numerical_aperture}"
            )
        for name in ("emission_wavelength_um", "pixel_size_um", "z_step_um"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.bottom_mismatch_um <= MAX_BOTTOM_MISMATCH_UM:
            raise ValueError(
                f"bottom_mismatch_um must be in [0, {MAX_BOTTOM_MISMATCH_UM}], "
                f"got {self.bottom_mismatch_um}"
            )

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
    bottom = {}
    if optics.bottom_mismatch_um:
        bottom = dict(
            tg=DESIGN_COVERSLIP_UM + optics.bottom_mismatch_um,
            tg0=DESIGN_COVERSLIP_UM,
            ng=BOTTOM_RI,
            ng0=BOTTOM_RI,
        )
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
        **bottom,
    )


@functools.lru_cache(maxsize=64)
def best_focus_um(
    optics: Optics,
    diameter_px: float = SHARPEST_FOR_DIAMETER_PX,
    search_um: float = 20.0,
    step_um: float = 0.25,
) -> float:
    """The defocus (micrometres, in the model's coordinate) of the sharpest plane: where
    the image of a disk ``diameter_px`` wide (a nucleus) has the most gradient energy,
    within ``search_um`` of the paraxial focus. 0 without aberration (the model is then
    symmetric about it). With spherical aberration a point's brightest plane and an
    object's sharpest one differ (by 5 um for a 18 px disk at NA 0.4 and 0.8 mm), and a
    focus score, as a plate's best plane, follows the object."""
    if not optics.bottom_mismatch_um:
        return 0.0
    z = np.arange(-search_um, search_um + step_um / 2, step_um)
    side = 2 * int(np.ceil(optics.blur_radius_px(search_um) + diameter_px)) + 1
    psf = widefield_psf(optics, z, side)
    yy, xx = np.indices((side, side)) - side // 2
    disk = (np.hypot(yy, xx) <= diameter_px / 2).astype(np.float64)
    fy = np.fft.fftfreq(side)[:, None]
    fx = np.fft.rfftfreq(side)[None, :]
    gradient = np.sin(np.pi * fy) ** 2 + np.sin(np.pi * fx) ** 2  # |finite difference|^2
    energy = (np.abs(np.fft.rfft2(psf) * np.fft.rfft2(disk)) ** 2 * gradient).sum(axis=(1, 2))
    return float(z[int(np.argmax(energy))])


def psf_size_for(optics: Optics, max_defocus_um: float, margin_px: int = 8) -> int:
    """Odd lateral PSF size that holds the blur disk at ``max_defocus_um`` (from the
    sharpest plane) plus a margin. With aberration the light of one side spreads beyond
    the geometric disk: the radius is then the one holding ``ABERRATED_ENERGY`` of the
    PSF at either side, measured on a canvas ``ABERRATED_CANVAS`` times the disk's."""
    radius = optics.blur_radius_px(max_defocus_um)
    if optics.bottom_mismatch_um:
        side = 2 * int(np.ceil(ABERRATED_CANVAS * radius)) + 1
        focus = best_focus_um(optics)
        psf = widefield_psf(optics, focus + np.array([-1.0, 1.0]) * max_defocus_um, side)
        radius = max(radius, *(encircled_radius_px(k, ABERRATED_ENERGY) for k in psf))
    return 2 * (int(np.ceil(radius)) + margin_px) + 1


def encircled_radius_px(kernel: np.ndarray, fraction: float = 0.5) -> float:
    """Encircled-energy radius of a centred odd kernel: the radius (pixels) of the disk
    about its centre holding ``fraction`` of its mass, interpolated between pixels."""
    c = kernel.shape[0] // 2
    yy, xx = np.indices(kernel.shape)
    r = np.hypot(yy - c, xx - c).ravel()
    order = np.argsort(r, kind="stable")
    cumulative = np.cumsum(kernel.ravel()[order]) / kernel.sum()
    return float(np.interp(fraction, cumulative, r[order]))


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
