"""Defocus measured on real planes, and the optics that reproduce it.

Two measurements need no ground truth:

* **A real pair** (a plane near focus and the same field ``distance_um`` away): each
  candidate numerical aperture of the widefield PSF model (:mod:`platefocus.synth.psf`)
  gives a kernel; the near plane convolved with it, with a gain and an offset fitted by
  least squares (stain, bleaching and background differ between acquisitions), predicts
  the defocused plane. The residual's spread in units of the defocused plane's noise
  (:func:`platefocus.consistency.hallucination.noise_sigma`) is about 1 for the kernel
  that reproduces the real blur and grows as the kernel is too narrow or too wide. The
  aperture is the model's one free parameter here: a blur at one distance is set by
  ``NA x distance`` to first order, so a pair whose near plane is itself a few um off
  focus reads as a slightly larger aperture (the fit gives an *effective* aperture).
* **Isolated defocused nuclei** of single real planes (no pair needed): each nucleus'
  radial profile about its centroid, background removed and normalised to its peak, and
  its half width at half maximum (pixels), which the blur and the nucleus' own size set.

Shapes are (Y, X) in pixels; distances in micrometres.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import fft, ndimage


def convolve_reflect(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``image`` (Y, X) convolved with a centred odd ``kernel`` (P, P), mirror padding
    (no wrap-around at the field's edges), same shape, float64."""
    p = kernel.shape[0]
    pad = p // 2 + 1
    padded = np.pad(np.asarray(image, np.float64), pad, mode="reflect")
    canvas = np.zeros_like(padded)
    canvas[:p, :p] = kernel
    canvas = np.roll(canvas, (-(p // 2), -(p // 2)), axis=(0, 1))
    out = fft.irfft2(fft.rfft2(padded) * fft.rfft2(canvas), s=padded.shape)
    return out[pad:-pad, pad:-pad]


def prediction_residual(
    near: np.ndarray, defocused: np.ndarray, kernel: np.ndarray, sigma: float
) -> tuple[float, float, float]:
    """``(residual, gain, offset)``: the spread of ``defocused - (gain * near * kernel +
    offset)`` in units of ``sigma`` (the defocused plane's noise), gain and offset fitted
    by least squares. About 1 when the kernel reproduces the blur."""
    predicted = convolve_reflect(near, kernel).ravel()
    design = np.stack([predicted, np.ones_like(predicted)], axis=1)
    target = np.asarray(defocused, np.float64).ravel()
    (gain, offset), *_ = np.linalg.lstsq(design, target, rcond=None)
    residual = target - design @ np.array([gain, offset])
    return float(residual.std() / sigma), float(gain), float(offset)


def fit_aperture(
    near: np.ndarray,
    defocused: np.ndarray,
    distance_um: float,
    optics,
    apertures: Sequence[float],
    kernel_size: int = 201,
) -> pd.DataFrame:
    """The PSF model's kernel for each candidate numerical aperture, judged by how well
    it predicts ``defocused`` from ``near`` (see the module doc).

    ``optics``: :class:`platefocus.synth.psf.Optics` (pixel size, wavelength, immersion);
    its aperture is replaced by each candidate. Returns one row per aperture:
    ``numerical_aperture``, ``residual`` (noise units), ``gain``, ``offset``,
    ``ee50_px``/``ee80_px`` (the kernel's 50 % and 80 % encircled-energy radii) and
    ``best`` (True on the row of smallest residual).
    """
    from platefocus.consistency.hallucination import noise_sigma
    from platefocus.consistency.operator import kernel_width_px
    from platefocus.synth.psf import widefield_psf

    sigma = noise_sigma(defocused)
    rows = []
    for aperture in apertures:
        candidate = dataclasses.replace(optics, numerical_aperture=float(aperture))
        kernel = widefield_psf(candidate, np.array([distance_um]), kernel_size)[0]
        residual, gain, offset = prediction_residual(near, defocused, kernel, sigma)
        rows.append(
            dict(
                numerical_aperture=float(aperture),
                residual=residual,
                gain=gain,
                offset=offset,
                ee50_px=kernel_width_px(kernel, 0.5),
                ee80_px=kernel_width_px(kernel, 0.8),
            )
        )
    table = pd.DataFrame(rows)
    table["best"] = table["residual"] == table["residual"].min()
    return table


def isolated_nucleus_profiles(
    plane: np.ndarray, labels: np.ndarray, clearance_px: float, radius_px: int = 60
) -> pd.DataFrame:
    """Radial profiles of the segmented objects of ``plane`` that stand alone.

    An object stands alone when no other object's centroid lies within ``clearance_px``
    of its own and its centroid is at least ``radius_px`` from the plane's edge. Each
    profile is the mean intensity per integer radius about the centroid, background (the
    plane's 10th percentile) removed, divided by its value at radius 0.

    Returns one row per isolated object: ``y``, ``x`` (centroid, pixels),
    ``peak_over_background`` (the profile's centre over the background, a ratio),
    ``hwhm_px`` (radius where the profile falls to one half, interpolated) and
    ``profile`` (an array over radii 0..``radius_px``).
    """
    image = np.asarray(plane, np.float64)
    background = float(np.percentile(image, 10))
    count = int(labels.max())
    if count == 0:
        return pd.DataFrame(columns=["y", "x", "peak_over_background", "hwhm_px", "profile"])
    centres = np.array(ndimage.center_of_mass(labels > 0, labels, range(1, count + 1)))
    distances = np.hypot(*(centres[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(distances, np.inf)
    height, width = image.shape
    smooth = ndimage.uniform_filter(image, 3)
    rows = []
    for (cy, cx), nearest in zip(centres, distances.min(axis=1), strict=True):
        inside = radius_px <= cy < height - radius_px and radius_px <= cx < width - radius_px
        if nearest < clearance_px or not inside:
            continue
        iy, ix = round(cy), round(cx)
        window = image[iy - radius_px : iy + radius_px + 1, ix - radius_px : ix + radius_px + 1]
        yy, xx = np.indices(window.shape) - radius_px
        r = np.rint(np.hypot(yy, xx)).astype(int).ravel()
        sums = np.bincount(r, window.ravel() - background)[: radius_px + 1]
        profile = sums / np.bincount(r)[: radius_px + 1]
        centre = float(smooth[iy, ix] - background)
        if centre <= 0:
            continue
        profile = profile / centre
        below = np.nonzero(profile < 0.5)[0]
        hwhm = np.nan
        if below.size and below[0] > 0:
            k = below[0]
            hwhm = k - 1 + (profile[k - 1] - 0.5) / (profile[k - 1] - profile[k])
        rows.append(
            dict(
                y=float(cy),
                x=float(cx),
                peak_over_background=(centre + background) / background,
                hwhm_px=float(hwhm),
                profile=profile,
            )
        )
    return pd.DataFrame(rows)
