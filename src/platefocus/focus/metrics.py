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

Derivative maps are computed once per plane and reduced over every tile in one pass
(``np.add.reduceat``); only the spectrum needs a transform per region.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft
from scipy import ndimage

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
    stack = np.asarray(stack)
    if stack.ndim == 2:
        stack = stack[None]
    if stack.ndim != 3:
        raise ValueError(f"stack must be (z, y, x) or (y, x), got shape {stack.shape}")
    if min(stack.shape[1:]) < 3:
        raise ValueError(f"planes must be at least 3x3 pixels, got {stack.shape[1:]}")
    stack = stack.astype(np.float64, copy=False)
    bad = ~np.isfinite(stack)
    if bad.any():
        z = sorted({int(k) for k in np.nonzero(bad)[0]})
        raise ValueError(f"stack has {int(bad.sum())} NaN or infinite pixels (planes {z})")
    return stack


def _tile_sums(a: np.ndarray, tiles: Sequence[Region]) -> np.ndarray:
    """Sums of ``a`` (z, y, x) over each tile of a grid, shape (z, n_tiles)."""
    ys = sorted({t.y.start for t in tiles})
    xs = sorted({t.x.start for t in tiles})
    # accumulated in float64 whatever the map's dtype
    grid = np.add.reduceat(np.add.reduceat(a, ys, axis=1, dtype=np.float64), xs, axis=2)
    return np.stack([grid[:, ys.index(t.y.start), xs.index(t.x.start)] for t in tiles], axis=1)


def _tile_counts(mask: np.ndarray, tiles: Sequence[Region]) -> np.ndarray:
    return _tile_sums(mask[None].astype(np.float64), tiles)[0]


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
    return _power_log_log_slope(_validate_stack(stack), _small_integers(stack))


def _small_integers(stack: np.ndarray) -> bool:
    """Whether the stack holds 8- or 16-bit unsigned integers (a histogram is cheap)."""
    return np.asarray(stack).dtype in (np.uint8, np.uint16)


def _median_abs_deviation(plane: np.ndarray, mean: float) -> float:
    """``median(|plane - mean|)`` of a float64 plane holding small non-negative integers,
    read from its histogram instead of partitioning every pixel; the same order statistics
    and the same arithmetic as ``np.median``, so the same value."""
    counts = np.bincount(plane.ravel().astype(np.int64))
    values = np.flatnonzero(counts)
    distance = np.abs(values.astype(np.float64) - mean)
    order = np.argsort(distance, kind="stable")
    distance, cumulative = distance[order], np.cumsum(counts[values][order])
    n = int(cumulative[-1])

    def kth(k: int) -> float:  # the k-th smallest distance, 0-based
        return float(distance[np.searchsorted(cumulative, k + 1)])

    if n % 2:
        return kth(n // 2)
    return (kth(n // 2 - 1) + kth(n // 2)) / 2


def _power_log_log_slope(stack: np.ndarray, small_integers: bool = False) -> np.ndarray:
    """:func:`power_log_log_slope` of a validated float64 stack (``small_integers``: its
    values are 8- or 16-bit unsigned integers)."""
    z, h, w = stack.shape
    out = np.zeros(z)
    labels, source, starts = _spectrum_bins(h, w)
    if len(labels) < 2:
        return out

    ptp = stack.max(axis=(1, 2)) - stack.min(axis=(1, 2))
    mean = stack.mean(axis=(1, 2), keepdims=True)
    if small_integers:
        mad = np.array(
            [_median_abs_deviation(p, m) for p, m in zip(stack, mean.ravel(), strict=True)]
        )
        mad = mad[:, None, None]
    else:
        mad = np.median(np.abs(stack - mean), axis=(1, 2), keepdims=True)
    scale = np.where((ptp[:, None, None] > 0) & (mad > 0), mad, 1.0)
    norm = stack / scale
    half = sfft.rfft2(norm - norm.mean(axis=(1, 2), keepdims=True))
    mag = np.abs(half.reshape(z, -1)[:, source])
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


def _window_starts(size: int, window: int) -> np.ndarray:
    n = (size + window - 1) // window
    idx = (np.arange(size) * float(n) / float(size)).astype(int)
    return np.searchsorted(idx, np.arange(n))


def local_focus_score(stack: np.ndarray, window: int = 20) -> np.ndarray:
    """LocalFocusScore of each plane of a (z, y, x) stack; returns (z,) float64."""
    stack = _validate_stack(stack)
    if window < 1:
        raise ValueError(f"window must be at least 1 pixel, got {window}")
    return _local_focus_score(stack, window)


def _local_focus_score(stack: np.ndarray, window: int) -> np.ndarray:
    """:func:`local_focus_score` of a validated float64 stack."""
    ys = _window_starts(stack.shape[1], window)
    xs = _window_starts(stack.shape[2], window)
    count = np.add.reduceat(np.add.reduceat(np.ones(stack.shape[1:]), ys, 0), xs, 1)
    s1 = np.add.reduceat(np.add.reduceat(stack, ys, axis=1), xs, axis=2)
    # per-window sums of squared deviations, from the centred stack to avoid cancellation
    centre = stack.mean(axis=(1, 2), keepdims=True)
    d = stack - centre
    d1 = np.add.reduceat(np.add.reduceat(d, ys, axis=1), xs, axis=2)
    d2 = np.add.reduceat(np.add.reduceat(d * d, ys, axis=1), xs, axis=2)
    mean = s1 / count
    ssd = d2 - d1 * d1 / count
    out = np.zeros(stack.shape[0])
    for k in range(stack.shape[0]):
        ok = mean[k] != 0
        if not ok.any():
            continue
        nv = ssd[k][ok] / (count[ok] * mean[k][ok])
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
        Planes processed at a time (bounds memory: about 12 float64 copies of a batch).

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
    npx = np.array([(r.y.stop - r.y.start) * (r.x.stop - r.x.start) for r in regions], float)
    brenner_mask = np.zeros((h, w), dtype=bool)
    brenner_mask[:, : w - 2] = True
    brenner_n = _tile_counts(brenner_mask, tiles)
    brenner_n = np.concatenate([[brenner_n.sum()], brenner_n])

    for b0 in range(0, z, batch):
        s = _validate_stack(raw[b0 : b0 + batch])
        batch_scores = _score_batch(
            s, regions, npx, brenner_n, saturation, window, _small_integers(raw)
        )
        for name, values in batch_scores.items():
            out[name][b0 : b0 + len(s)] = values
    out["region"] = np.array([r.name for r in regions])
    return out


def _score_batch(
    s: np.ndarray,
    regions: Sequence[Region],
    npx: np.ndarray,
    brenner_n: np.ndarray,
    saturation: float | None,
    window: int,
    small_integers: bool = False,
) -> dict[str, np.ndarray]:
    """The scores of a (b, Y, X) float64 batch of planes, each (b, R) for the R regions
    (the whole field first, then the tiles). ``npx`` and ``brenner_n``: (R,) pixels each
    region counts for the mean-type metrics and for Brenner's (which skips 2 columns)."""
    tiles = regions[1:]
    w = s.shape[2]
    out: dict[str, np.ndarray] = {}

    def tiles_and_field(a: np.ndarray) -> np.ndarray:
        t = _tile_sums(a, tiles)
        return np.concatenate([t.sum(axis=1, keepdims=True), t], axis=1)

    centre = s.mean(axis=(1, 2), keepdims=True)
    d = s - centre
    d1, d2 = tiles_and_field(d), tiles_and_field(d * d)
    mean = d1 / npx + centre[:, :, 0]
    ssd = d2 - d1 * d1 / npx
    out["mean"] = mean
    out["std"] = np.sqrt(np.maximum(ssd, 0) / npx)
    out["focus_score"] = np.where(mean > 0, ssd / (npx * np.where(mean > 0, mean, 1)), 0)
    if saturation is not None:
        out["saturated_fraction"] = tiles_and_field((s >= saturation) * 1.0) / npx

    # Derivative maps in float32, summed in float64 (_tile_sums): half the memory traffic,
    # and the sums agree with float64 maps to ~1e-7 relative (tests/focus, 1e-6 checked).
    # Separable 1D passes: the same 3x3 stencils as the 2D kernels, fewer operations.
    s32 = s.astype(np.float32)
    lap = ndimage.correlate1d(s32, _SECOND, axis=1, mode="reflect")
    lap += ndimage.correlate1d(s32, _SECOND, axis=2, mode="reflect")
    l1, l2 = tiles_and_field(lap), tiles_and_field(lap * lap)
    out["laplacian_variance"] = np.maximum(l2 / npx - (l1 / npx) ** 2, 0)
    del lap
    energy = gradient_energy(s32, dtype=np.float32)
    out["tenengrad"] = tiles_and_field(energy) / npx
    del energy
    diff = np.zeros_like(s32)
    diff[:, :, : w - 2] = (s32[:, :, 2:] - s32[:, :, :-2]) ** 2
    out["brenner"] = tiles_and_field(diff) / brenner_n
    del diff, s32

    slope = np.zeros((len(s), len(regions)))
    local = np.zeros((len(s), len(regions)))
    for ri, r in enumerate(regions):
        sub = s[:, r.y, r.x]
        slope[:, ri] = _power_log_log_slope(sub, small_integers)  # validated already
        local[:, ri] = _local_focus_score(sub, window)
    out["power_log_log_slope"] = slope
    out["local_focus_score"] = local
    return out
