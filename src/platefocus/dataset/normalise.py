"""The one intensity normalisation of platefocus: a plane's low and high percentiles map to
0 and 1.

Training pairs, restoration and image-quality scores all use it, so that a model sees at
inference exactly the scale it was trained on, and PSNR/SSIM are computed over the same
data range. Defocus spreads the same light over more pixels, so in-focus peaks normalised
with a defocused plane's range rise above 1: that is physics, not an error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Default normalisation percentiles (low, high) of a plane's intensities.
DEFAULT_PERCENTILES: tuple[float, float] = (1.0, 99.8)


def percentile_range(
    image: np.ndarray, percentiles: Sequence[float] = DEFAULT_PERCENTILES
) -> tuple[float, float]:
    """``(lo, hi)``: the image's low and high percentiles, in its intensity units."""
    lo, hi = np.percentile(image, percentiles)
    return float(lo), float(hi)


def intensity_span(lo: float, hi: float) -> float:
    """``hi - lo``, or 1 for a flat image (so nothing divides by zero)."""
    return hi - lo if hi > lo else 1.0


def apply_range(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``(values - lo) / (hi - lo)`` as float64 (``lo, hi`` from :func:`percentile_range`)."""
    return (np.asarray(values, dtype=np.float64) - lo) / intensity_span(lo, hi)


def undo_range(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The inverse of :func:`apply_range`: back to intensity units."""
    return values * intensity_span(lo, hi) + lo


def normalise(
    plane: np.ndarray, percentiles: Sequence[float] = DEFAULT_PERCENTILES
) -> tuple[np.ndarray, float, float]:
    """``(normalised float32 plane, lo, hi)`` with ``lo, hi`` the plane's own percentiles."""
    lo, hi = percentile_range(plane, percentiles)
    return apply_range(plane, lo, hi).astype(np.float32), lo, hi
