"""Slow, literal per-image implementations of the focus metrics.

They follow the published code paths step by step (CellProfiler MeasureImageQuality and
centrosome ``rps`` for the CellProfiler metrics; the textbook definitions for the others),
one image at a time, with no shared work between metrics or tiles. The test suite checks
:mod:`platefocus.focus.metrics` against them, and ``benchmarks/bench_focus.py`` times them as the
straightforward baseline.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy import ndimage


def focus_score(img: np.ndarray) -> float:
    """CellProfiler FocusScore: ``sum((I - mean)^2) / (N * mean)``, 0 if mean <= 0."""
    img = img.astype(float)
    mean = img.mean()
    if mean <= 0:
        return 0.0
    return float(((img - mean) ** 2).sum() / (img.size * mean))


def local_focus_score(img: np.ndarray, scale: int = 20) -> float:
    """CellProfiler LocalFocusScore with its label grid and per-label ndimage sums."""
    img = img.astype(float)
    shape = img.shape
    i, j = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    m, n = (np.array(shape) + scale - 1) // scale
    i = (i * float(m) / float(shape[0])).astype(int)
    j = (j * float(n) / float(shape[1])).astype(int)
    grid = i * n + j + 1
    labels = np.arange(1, m * n + 1)
    means = np.array(ndimage.mean(img, grid, labels))
    sq = (img - means[grid - 1]) ** 2
    keep = means != 0
    if not keep.any():
        return 0.0
    sums = np.array(ndimage.sum(sq, grid, labels[keep]))
    counts = np.array(ndimage.sum(np.ones(shape), grid, labels[keep]))
    nv = sums / (counts * means[keep])
    med = np.median(nv)
    return float(np.var(nv) / med) if np.isfinite(med) and med > 0 else 0.0


def power_log_log_slope(img: np.ndarray) -> float:
    """CellProfiler PowerLogLogSlope: centrosome ``rps`` then a least-squares fit."""
    img = img.astype(float)
    radii2 = (np.arange(img.shape[0]).reshape((img.shape[0], 1)) ** 2) + (
        np.arange(img.shape[1]) ** 2
    )
    radii2 = np.minimum(radii2, np.flipud(radii2))
    radii2 = np.minimum(radii2, np.fliplr(radii2))
    maxwidth = min(img.shape[0], img.shape[1]) / 8.0
    if np.ptp(img) > 0:
        img = img / np.median(abs(img - img.mean()))
    mag = abs(np.fft.fft2(img - np.mean(img)))
    power = mag**2
    radii = np.floor(np.sqrt(radii2)).astype(int) + 1
    labels = np.arange(2, np.floor(maxwidth)).astype(int).tolist()
    if len(labels) < 2:
        return 0.0
    magsum = np.array(ndimage.sum(mag, radii, labels))
    powersum = np.array(ndimage.sum(power, radii, labels))
    bins = np.array(labels)
    if not (magsum.sum() > 0 and len(np.unique(img)) > 1):
        return 0.0
    valid = magsum > 0
    bins, powersum = bins[valid], powersum[valid]
    a = np.stack([np.log(bins), np.ones(len(bins))], axis=1)
    return float(scipy.linalg.lstsq(a, np.log(powersum))[0][0])


def laplacian_variance(img: np.ndarray) -> float:
    """Variance of the 3x3 Laplacian (reflect border)."""
    return float(ndimage.laplace(img.astype(float), mode="reflect").var())


def tenengrad(img: np.ndarray) -> float:
    """Mean squared Sobel gradient magnitude (reflect border)."""
    img = img.astype(float)
    gx = ndimage.sobel(img, axis=1, mode="reflect")
    gy = ndimage.sobel(img, axis=0, mode="reflect")
    return float((gx * gx + gy * gy).mean())


def brenner(img: np.ndarray) -> float:
    """Mean of ``(I[y, x + 2] - I[y, x])^2``."""
    img = img.astype(float)
    return float(((img[:, 2:] - img[:, :-2]) ** 2).mean())


REFERENCE = {
    "power_log_log_slope": power_log_log_slope,
    "focus_score": focus_score,
    "local_focus_score": local_focus_score,
    "laplacian_variance": laplacian_variance,
    "tenengrad": tenengrad,
    "brenner": brenner,
}
