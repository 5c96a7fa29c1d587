"""Focus metrics of 2D planes, for whole planes and tile grids, vectorised over z.

Every metric is "higher is sharper" under progressive blur of a plane, with two documented
exceptions (see ``tests/test_focus.py``): ``local_focus_score`` measures how unevenly focus
is spread over the plane, and on sparse fields (nuclei on dark background) it *rises* under
mild blur as light spills into background windows, so it is a QC measure, not a focus
criterion; ``power_log_log_slope`` only sees radial frequencies up to ``min(H, W) / 8``
and stops falling once blur has removed all of them (on small tiles, blur above ~4 px).
Definitions:

- ``power_log_log_slope``: CellProfiler MeasureImageQuality PowerLogLogSlope. The plane is
  divided by ``median(|I - mean(I)|)``, its 2D power spectrum summed in integer radial bins
  ``floor(r) + 1`` for ``2 <= bin < floor(min(H, W) / 8)``, and the least-squares slope of
  log power against log bin fitted (centrosome ``rps``; Bray et al. 2012, J Biomol Screen
  17:266). Blur removes high frequencies and makes the slope steeper (more negative).
- ``focus_score``: CellProfiler FocusScore, the normalised variance
  ``sum((I - mean)^2) / (N * mean)`` (Groen et al. 1985); 0 when the mean is not positive.
  Computed on raw intensities: CellProfiler's value for a uint16 image scaled to [0, 1] is
  this value divided by 65535.
- ``local_focus_score``: CellProfiler LocalFocusScore: the plane is cut into
  ``ceil(H / w) x ceil(W / w)`` windows (pixel ``i`` in window ``floor(i * m / H)``), the
  normalised variance of every window with a non-zero mean computed, and the score is
  ``var(nv) / median(nv)`` (0 when the median is not positive).
- ``laplacian_variance``: variance of the 3x3 Laplacian (Pech-Pacheco et al. 2000).
- ``tenengrad``: mean of the squared 3x3 Sobel gradient magnitude (Krotkov 1987).
- ``brenner``: mean of ``(I[y, x + 2] - I[y, x])^2`` over pairs starting in the region
  (Brenner et al. 1976); tile values use the pairs that start in the tile.

Every per-pixel sum (moments, derivatives, LocalFocusScore windows) of the plane and of
its tiles comes from one compiled pass per plane (:mod:`platefocus.focus.kernels`); only
the spectrum needs a transform per region.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft
from scipy import ndimage

from platefocus.focus.kernels import plane_sums, window_index

METRICS = (
    "power_log_log_slope",
    "focus_score",
    "local_focus_score",
    "laplacian_variance",
    "tenengrad",
    "brenner",
)
FIELD = "field"
#: Floor of denominators (means, spreads) so that empty regions divide safely.
EPSILON = 1e-12

# 3x3 Laplacian = second difference in y + in x; Sobel = difference x smoothing.
_SECOND = np.array([1.0, -2.0, 1.0])
_DIFF = np.array([-1.0, 0.0, 1.0])
_SMOOTH = np.array([1.0, 2.0, 1.0])


@dataclass(frozen=True)
class Region:
    """A named rectangle of a plane, in pixels (``t{row}{col}`` for tiles)."""

    name: str
    y: slice
    x: slice


def tile_grid(height: int, width: int, grid: Sequence[int] = (2, 2)) -> list[Region]:
    """Regions of an ``n x m`` grid over a ``height x width`` plane, row-major.

    Edges are ``round(linspace(0, size, n + 1))``, so tiles differ by at most one pixel.
    """
    n, m = (int(g) for g in grid)
    if n < 1 or m < 1 or n > height or m > width:
        raise ValueError(f"tile grid must be between 1x1 and the plane size, got {n}x{m}")
    ys = np.linspace(0, height, n + 1).round().astype(int)
    xs = np.linspace(0, width, m + 1).round().astype(int)
    return [
        Region(f"t{i}{j}", slice(ys[i], ys[i + 1]), slice(xs[j], xs[j + 1]))
        for i in range(n)
        for j in range(m)
    ]


def _validate_stack(stack: np.ndarray) -> np.ndarray:
    """The stack as (z, y, x) integers or floats (other dtypes become float64); NaN or
    infinite pixels are a ``ValueError``."""
    stack = np.asarray(stack)
    if stack.ndim == 2:
        stack = stack[None]
    if stack.ndim != 3:
        raise ValueError(f"stack must be (z, y, x) or (y, x), got shape {stack.shape}")
    if min(stack.shape[1:]) < 3:
        raise ValueError(f"planes must be at least 3x3 pixels, got {stack.shape[1:]}")
    if stack.dtype.kind not in "uif":
        stack = stack.astype(np.float64)
    if stack.dtype.kind == "f":
        bad = ~np.isfinite(stack)
        if bad.any():
            z = sorted({int(k) for k in np.nonzero(bad)[0]})
            raise ValueError(f"stack has {int(bad.sum())} NaN or infinite pixels (planes {z})")
    return stack


@functools.lru_cache(maxsize=32)
def _spectrum_bins(h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where PowerLogLogSlope's radial bins ``2 <= bin < floor(min(H, W) / 8)`` lie in the
    rfft2 half spectrum of an ``h x w`` plane: (bin labels, flat half-spectrum index of
    every binned position sorted by bin, start of each bin in that order).

    CellProfiler bins the full spectrum with a radius folded by ``flipud`` (y -> H-1-y),
    which is not the conjugate symmetry (y -> H-y), so a full-spectrum position (y, x) with
    x beyond the half spectrum is read at its conjugate ((-y) mod H, W - x) (same
    magnitude). Only the few low-frequency positions are gathered: the full magnitude is
    never built.
    """
    max_bin = int(np.floor(min(h, w) / 8.0))
    labels = np.arange(2, max_bin)
    r2 = np.arange(h)[:, None] ** 2 + np.arange(w)[None, :] ** 2
    r2 = np.minimum(r2, np.flipud(r2))
    r2 = np.minimum(r2, np.fliplr(r2))
    bins = (np.floor(np.sqrt(r2)).astype(np.int64) + 1).ravel()
    keep = np.nonzero((bins >= 2) & (bins < max_bin))[0]
    order = keep[np.argsort(bins[keep], kind="stable")]
    y, x = np.divmod(order, w)
    wr = w // 2 + 1
    mirrored = x >= wr
    source = np.where(mirrored, ((-y) % h) * wr + (w - x) % w, y * wr + x)
    starts = np.searchsorted(bins[order], labels)
    return labels, source, starts


def power_log_log_slope(stack: np.ndarray) -> np.ndarray:
    """PowerLogLogSlope of each plane of a (z, y, x) stack; returns (z,) float64."""
    return _power_log_log_slope(_validate_stack(stack))


def _power_log_log_slope(stack: np.ndarray) -> np.ndarray:
    """:func:`power_log_log_slope` of a (z, y, x) stack already checked to be finite.

    CellProfiler divides the plane by ``median(|I - mean|)`` first; a constant factor adds
    ``log(c)`` to every log power and leaves the slope unchanged, so the spread is not
    computed. The transform is single precision: the slopes agree with the float64
    reference to ~1e-7 relative (tests/focus checks 1e-6) at half the time.
    """
    z, h, w = stack.shape
    out = np.zeros(z)
    labels, source, starts = _spectrum_bins(h, w)
    if len(labels) < 2:
        return out
    ptp = stack.max(axis=(1, 2)).astype(np.float64) - stack.min(axis=(1, 2))
    mean = stack.mean(axis=(1, 2), dtype=np.float64)
    centred = stack.astype(np.float32)
    centred -= mean.astype(np.float32)[:, None, None]
    half = sfft.rfft2(centred)
    del centred
    mag = np.abs(half.reshape(z, -1)[:, source]).astype(np.float64)
    mag_sum = np.add.reduceat(mag, starts, axis=1)
    power_sum = np.add.reduceat(mag * mag, starts, axis=1)

    log_r = np.log(labels.astype(np.float64))
    for k in range(z):
        if ptp[k] == 0 or mag_sum[k].sum() <= 0:
            continue
        valid = (mag_sum[k] > 0) & (power_sum[k] > 0)
        if valid.sum() < 2:
            continue
        x, y = log_r[valid], np.log(power_sum[k][valid])
        xm = x - x.mean()
        out[k] = float((xm * (y - y.mean())).sum() / (xm * xm).sum())
    return out


def local_focus_score(stack: np.ndarray, window: int = 20) -> np.ndarray:
    """LocalFocusScore of each plane of a (z, y, x) stack; returns (z,) float64."""
    return score_stack(stack, (1, 1), window=window)["local_focus_score"][:, 0]


def _local_focus_scores(sums: np.ndarray, counts: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """LocalFocusScore from per-window sums: ``sums`` (z, wy, wx, 2) of ``I - centre`` and
    its square, ``counts`` (wy, wx) pixels per window (0: no such window), ``centre`` (z,)."""
    ok = counts > 0
    n = counts[ok]
    d1, d2 = sums[:, ok, 0], sums[:, ok, 1]
    mean = d1 / n + centre[:, None]
    ssd = d2 - d1 * d1 / n
    out = np.zeros(len(sums))
    for k in range(len(sums)):
        keep = mean[k] != 0
        if not keep.any():
            continue
        nv = ssd[k][keep] / (n[keep] * mean[k][keep])
        med = np.median(nv)
        if np.isfinite(med) and med > 0:
            out[k] = float(np.var(nv) / med)
    return out


def gradient_energy(stack: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """Squared 3x3 Sobel gradient magnitude of each plane of a (z, y, x) stack.

    Separable passes (difference along one axis, [1, 2, 1] smoothing along the other),
    reflect border; returns ``dtype`` (default float64) of the stack's shape.
    """
    s = np.asarray(stack, dtype=dtype)
    gx = ndimage.correlate1d(s, _DIFF, axis=-1, mode="reflect")
    gx = ndimage.correlate1d(gx, _SMOOTH, axis=-2, mode="reflect")
    energy = gx * gx
    del gx
    gy = ndimage.correlate1d(s, _DIFF, axis=-2, mode="reflect")
    gy = ndimage.correlate1d(gy, _SMOOTH, axis=-1, mode="reflect")
    energy += gy * gy
    return energy


def contrast(std: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Coefficient of variation ``std / mean`` (a region without objects has a low one)."""
    return std / np.maximum(mean, EPSILON)


def score_stack(
    stack: np.ndarray,
    grid: Sequence[int] = (2, 2),
    *,
    window: int = 20,
    saturation: float | None = None,
    batch: int = 8,
) -> dict[str, np.ndarray]:
    """Every focus metric of every plane, for the whole plane and each tile.

    Parameters
    ----------
    stack : (Z, Y, X) or (Y, X) array
        Intensities of one channel; integer or finite float. NaN or infinite pixels are an
        error (``ValueError``).
    grid : (n, m)
        Tile grid; tiles are named ``t{row}{col}``.
    window : int
        LocalFocusScore window, pixels.
    saturation : float, optional
        Pixel value counted as saturated (default: the dtype's maximum for integers,
        none for floats).
    batch : int
        Planes processed at a time (bounds memory: the spectrum's float32 copy of a batch).

    Returns
    -------
    scores : dict
        ``"region"``: (R,) names (``"field"`` then tiles); each metric in ``METRICS`` plus
        ``"mean"``, ``"std"`` and ``"saturated_fraction"``: (Z, R) float64.
    """
    raw = np.asarray(stack)
    if raw.ndim == 2:
        raw = raw[None]
    if raw.ndim != 3:
        raise ValueError(f"stack must be (z, y, x) or (y, x), got shape {raw.shape}")
    if window < 1:
        raise ValueError(f"window must be at least 1 pixel, got {window}")
    if saturation is None and raw.dtype.kind in "ui":
        saturation = float(np.iinfo(raw.dtype).max)
    z, h, w = raw.shape
    tiles = tile_grid(h, w, grid)
    regions = [Region(FIELD, slice(0, h), slice(0, w)), *tiles]
    names = ["mean", "std", "saturated_fraction", *METRICS]
    out = {name: np.zeros((z, len(regions))) for name in names}
    for b0 in range(0, z, batch):
        planes = _validate_stack(raw[b0 : b0 + batch])
        for name, values in _score_batch(planes, regions, saturation, window).items():
            out[name][b0 : b0 + len(planes)] = values
    out["region"] = np.array([r.name for r in regions])
    return out


def _window_counts(size_y: int, size_x: int, window: int) -> np.ndarray:
    """Pixels in each LocalFocusScore window of a ``size_y x size_x`` region, (wy, wx)."""
    return np.outer(
        np.bincount(window_index(size_y, window)), np.bincount(window_index(size_x, window))
    ).astype(np.float64)


def _score_batch(
    planes: np.ndarray, regions: Sequence[Region], saturation: float | None, window: int
) -> dict[str, np.ndarray]:
    """The scores of a validated (b, Y, X) batch of planes, each (b, R) for the R regions
    (the whole field first, then the tiles of a grid, row-major)."""
    tiles = regions[1:]
    w = planes.shape[2]
    ys = [*sorted({t.y.start for t in tiles}), planes.shape[1]]
    xs = [*sorted({t.x.start for t in tiles}), w]
    sums = plane_sums(planes, ys, xs, window, np.inf if saturation is None else saturation)
    per_tile = sums["tile_sums"]
    per_region = np.concatenate([per_tile.sum(axis=1, keepdims=True), per_tile], axis=1)
    d1, d2, l1, l2, energy, brenner, saturated = np.moveaxis(per_region, -1, 0)
    npx = np.array([(r.y.stop - r.y.start) * (r.x.stop - r.x.start) for r in regions], float)
    # Brenner's pairs start in the first w - 2 columns
    brenner_n = np.array(
        [(r.y.stop - r.y.start) * (min(r.x.stop, w - 2) - r.x.start) for r in regions], float
    )
    mean = d1 / npx + sums["centre"][:, None]
    ssd = d2 - d1 * d1 / npx
    out = {
        "mean": mean,
        "std": np.sqrt(np.maximum(ssd, 0) / npx),
        "focus_score": np.where(mean > 0, ssd / (npx * np.where(mean > 0, mean, 1)), 0),
        "saturated_fraction": saturated / npx,
        "laplacian_variance": np.maximum(l2 / npx - (l1 / npx) ** 2, 0),
        "tenengrad": energy / npx,
        "brenner": np.divide(brenner, brenner_n, out=np.zeros_like(brenner), where=brenner_n > 0),
    }
    local = [
        _local_focus_scores(
            sums["field_windows"], _window_counts(*planes.shape[1:], window), sums["centre"]
        )
    ]
    for ti, t in enumerate(tiles):
        windows = sums["tile_windows"][:, ti]
        counts = np.zeros(windows.shape[1:3])
        c = _window_counts(t.y.stop - t.y.start, t.x.stop - t.x.start, window)
        counts[: c.shape[0], : c.shape[1]] = c
        local.append(_local_focus_scores(windows, counts, sums["centre"]))
    out["local_focus_score"] = np.stack(local, axis=1)
    out["power_log_log_slope"] = np.stack(
        [_power_log_log_slope(planes[:, r.y, r.x]) for r in regions], axis=1
    )
    return out
