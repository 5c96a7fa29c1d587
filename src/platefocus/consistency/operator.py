"""The defocus operator A: convolution with the blur kernel that takes the best plane to
the plane ``dz`` away, estimated from a Z-stack or computed from the optics.

Estimated: for pairs of (best-plane tile x, defocused tile y) the kernel k minimising
``sum ||y - k * x||^2 + lam ||k||^2`` is, in Fourier space,
``K = sum conj(X) Y / (sum |X|^2 + lam')``, the regularised least-squares (Wiener)
estimate averaged over tiles. Each tile's mean is removed (a flat background is left
unchanged by a kernel of unit sum) and both tiles are apodised with the same Hann window so
that the tile edges do not enter as sharp structure. The kernel is cropped to ``size`` x
``size`` pixels, made non-negative and normalised to unit sum (defocus spreads light, it
neither creates nor destroys it).

Physical: with a depth-independent point spread function ``P(z)`` (``synth.psf``), the
best plane is ``o * P(0)`` and the plane ``dz`` away ``o * P(dz)``, so the kernel between
them is ``P(dz)`` deconvolved by ``P(0)``: ``K = P(dz) conj(P0) / (|P0|^2 + eps)``.

Shapes are (Y, X) in pixels; ``dz`` in planes, defocus distances in micrometres.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def _centred_crop(kernel_full: np.ndarray, size: int) -> np.ndarray:
    """The ``size`` x ``size`` centre of a kernel whose origin is at pixel (0, 0)."""
    shifted = np.fft.fftshift(kernel_full)
    cy, cx = shifted.shape[0] // 2, shifted.shape[1] // 2
    r = size // 2
    return shifted[cy - r : cy + r + 1, cx - r : cx + r + 1]


def _unit_sum(kernel: np.ndarray) -> np.ndarray:
    kernel = np.clip(kernel, 0, None)
    total = kernel.sum()
    if total <= 0:
        raise ValueError("the estimated kernel has no positive mass: no defocus signal")
    return kernel / total


def estimate_kernel(
    pairs: Iterable[tuple[np.ndarray, np.ndarray]],
    size: int = 31,
    regularisation: float = 1e-3,
) -> np.ndarray:
    """The blur kernel from best-plane tiles to defocused tiles (see the module doc).

    Parameters
    ----------
    pairs
        ``(best, defocused)`` tiles, (Y, X) each, all of one shape.
    size
        Odd side of the returned kernel, pixels.
    regularisation
        ``lam'`` relative to the mean of ``sum |X|^2`` (dimensionless).

    Returns
    -------
    (size, size) float64
        Centred, non-negative, unit sum.
    """
    if size % 2 == 0:
        raise ValueError(f"size must be odd, got {size}")
    cross, power, shape = None, None, None
    for best, defocused in pairs:
        best = np.asarray(best, np.float64)
        defocused = np.asarray(defocused, np.float64)
        if shape is None:
            shape = best.shape
            window = np.outer(np.hanning(shape[0]), np.hanning(shape[1]))
            cross = np.zeros((shape[0], shape[1] // 2 + 1), np.complex128)
            power = np.zeros(cross.shape, np.float64)
        if best.shape != shape or defocused.shape != shape:
            raise ValueError(f"tiles of one shape needed, got {best.shape} and {shape}")
        x = np.fft.rfft2((best - best.mean()) * window)
        y = np.fft.rfft2((defocused - defocused.mean()) * window)
        cross += np.conj(x) * y
        power += np.abs(x) ** 2
    if shape is None:
        raise ValueError("no tile pairs to estimate a kernel from")
    if min(shape) < size:
        raise ValueError(f"tiles of {shape} are smaller than the kernel ({size} px)")
    transfer = cross / (power + regularisation * power.mean())
    transfer[0, 0] = 1.0  # unit sum (the means were removed)
    return _unit_sum(_centred_crop(np.fft.irfft2(transfer, s=shape), size))


def physical_kernel(
    optics, defocus_um: float, size: int = 31, regularisation: float = 1e-3
) -> np.ndarray:
    """The kernel from the in-focus plane to the plane ``defocus_um`` away, from the
    widefield PSF model of ``optics`` (:class:`platefocus.synth.psf.Optics`); with
    aberration, both measured from the sharpest plane
    (:func:`platefocus.synth.psf.best_focus_um`)."""
    from platefocus.synth.psf import best_focus_um, centred_transfer, psf_size_for, widefield_psf

    side = max(psf_size_for(optics, abs(defocus_um)), size)
    side += 1 - side % 2
    focus_um = best_focus_um(optics)
    psf = widefield_psf(optics, np.array([focus_um, focus_um + defocus_um]), side)
    canvas = (2 * side, 2 * side)
    otf = centred_transfer(psf, canvas)
    focus, defocused = otf[0], otf[1]
    power = np.abs(focus) ** 2
    transfer = defocused * np.conj(focus) / (power + regularisation * power.max())
    transfer[0, 0] = 1.0
    return _unit_sum(_centred_crop(np.fft.irfft2(transfer, s=canvas), size))


def radial_profile(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(radius_px, mean)``: the kernel's mean value per integer radius from its centre."""
    c = kernel.shape[0] // 2
    yy, xx = np.indices(kernel.shape)
    r = np.rint(np.hypot(yy - c, xx - c)).astype(int)
    sums = np.bincount(r.ravel(), kernel.ravel())
    counts = np.bincount(r.ravel())
    radius = np.arange(len(sums))
    keep = radius <= c
    return radius[keep], sums[keep] / counts[keep]


def kernel_width_px(kernel: np.ndarray, fraction: float = 0.5) -> float:
    """Encircled-energy radius of a unit-sum kernel (pixels; the PSF module owns the
    measure, :func:`platefocus.synth.psf.encircled_radius_px`). Robust to a faint noise
    floor in the tail, which dominates an RMS radius."""
    from platefocus.synth.psf import encircled_radius_px

    return encircled_radius_px(kernel, fraction)
