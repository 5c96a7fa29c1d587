"""One-pass compiled kernel of the focus metrics' per-pixel sums (Numba).

Why compiled: the NumPy path made about ten full-size passes per plane (the centred
plane, its square, the Laplacian, its square, four Sobel correlations, Brenner's
difference) and summed each over the tile grid and the LocalFocusScore windows; the
passes, not the arithmetic, were the cost (``benchmarks/bench_focus.py``: 14 Mpix/s on
one core). No maintained library computes these focus sums, so the stencils are written
here once, with Numba (a maintained compiler), and read every pixel once.

Conventions are those of :mod:`platefocus.focus.metrics`: 3x3 stencils with SciPy's
``reflect`` border (``I[-1] = I[0]``) on the whole plane, sums restricted to tiles, every
value in float64.
"""

from __future__ import annotations

import numba
import numpy as np

#: Order of the per-tile sums returned by :func:`plane_sums` (last axis of ``tile_sums``).
TILE_SUMS = (
    "centred",  # sum(I - centre)
    "centred_squared",  # sum((I - centre)^2)
    "laplacian",  # sum(L), L = 3x3 Laplacian
    "laplacian_squared",  # sum(L^2)
    "gradient_energy",  # sum(Gx^2 + Gy^2), 3x3 Sobel
    "brenner",  # sum((I[y, x + 2] - I[y, x])^2), pairs starting in the tile
    "saturated",  # count(I >= saturation)
)


@numba.njit(cache=True, nogil=True)
def _plane_sums(
    stack,
    saturation,
    tile_row,
    tile_starts_x,
    window_row_field,
    window_col_field,
    window_row_tile,
    window_col_tile,
    centres,
    tile_sums,
    field_windows,
    tile_windows,
):  # pragma: no cover - compiled; exercised through plane_sums
    z, h, w = stack.shape
    n_tile_cols = len(tile_starts_x) - 1
    for k in range(z):
        total = 0.0
        for y in range(h):
            for x in range(w):
                total += stack[k, y, x]
        centre = total / (h * w)
        centres[k] = centre
        for y in range(h):
            ym = y - 1 if y > 0 else 0
            yp = y + 1 if y < h - 1 else h - 1
            wyf = window_row_field[y]
            wyt = window_row_tile[y]
            for tc in range(n_tile_cols):
                t = tile_row[y] * n_tile_cols + tc
                s_d = 0.0
                s_dd = 0.0
                s_l = 0.0
                s_ll = 0.0
                s_e = 0.0
                s_b = 0.0
                s_sat = 0.0
                for x in range(tile_starts_x[tc], tile_starts_x[tc + 1]):
                    xm = x - 1 if x > 0 else 0
                    xp = x + 1 if x < w - 1 else w - 1
                    v = float(stack[k, y, x])
                    a_m = float(stack[k, ym, xm])
                    a_0 = float(stack[k, ym, x])
                    a_p = float(stack[k, ym, xp])
                    b_m = float(stack[k, y, xm])
                    b_p = float(stack[k, y, xp])
                    c_m = float(stack[k, yp, xm])
                    c_0 = float(stack[k, yp, x])
                    c_p = float(stack[k, yp, xp])
                    d = v - centre
                    s_d += d
                    s_dd += d * d
                    lap = a_0 + c_0 + b_m + b_p - 4.0 * v
                    s_l += lap
                    s_ll += lap * lap
                    gx = (a_p - a_m) + 2.0 * (b_p - b_m) + (c_p - c_m)
                    gy = (c_m - a_m) + 2.0 * (c_0 - a_0) + (c_p - a_p)
                    s_e += gx * gx + gy * gy
                    if x < w - 2:
                        bd = float(stack[k, y, x + 2]) - v
                        s_b += bd * bd
                    if v >= saturation:
                        s_sat += 1.0
                    wxf = window_col_field[x]
                    field_windows[k, wyf, wxf, 0] += d
                    field_windows[k, wyf, wxf, 1] += d * d
                    wxt = window_col_tile[x]
                    tile_windows[k, t, wyt, wxt, 0] += d
                    tile_windows[k, t, wyt, wxt, 1] += d * d
                tile_sums[k, t, 0] += s_d
                tile_sums[k, t, 1] += s_dd
                tile_sums[k, t, 2] += s_l
                tile_sums[k, t, 3] += s_ll
                tile_sums[k, t, 4] += s_e
                tile_sums[k, t, 5] += s_b
                tile_sums[k, t, 6] += s_sat


def window_index(size: int, window: int) -> np.ndarray:
    """LocalFocusScore's window of each pixel along one axis: ``floor(i * n / size)`` with
    ``n = ceil(size / window)`` windows (CellProfiler's label grid), shape (size,)."""
    n = (size + window - 1) // window
    return (np.arange(size) * float(n) / float(size)).astype(np.int64)


def plane_sums(
    stack: np.ndarray,
    tile_starts_y: np.ndarray,
    tile_starts_x: np.ndarray,
    window: int,
    saturation: float,
) -> dict[str, np.ndarray]:
    """Per-tile and per-window sums of a (z, y, x) stack, every pixel read once.

    Parameters
    ----------
    stack : (z, y, x) array, integer or finite float.
    tile_starts_y, tile_starts_x : edges of the tile grid, pixels, each ``[0, ..., size]``.
    window : LocalFocusScore window, pixels (windows laid on the whole plane and, separately,
        on each tile).
    saturation : pixel value counted as saturated (``inf`` for none).

    Returns
    -------
    dict with ``"centre"`` (z,) plane means; ``"tile_sums"`` (z, tiles, 7) in the order of
    :data:`TILE_SUMS`, tiles row-major; ``"field_windows"`` (z, wy, wx, 2) and
    ``"tile_windows"`` (z, tiles, wy', wx', 2): sums of ``I - centre`` and its square per
    LocalFocusScore window; all float64.
    """
    z, h, w = stack.shape
    ys, xs = np.asarray(tile_starts_y, np.int64), np.asarray(tile_starts_x, np.int64)
    tile_row = np.repeat(np.arange(len(ys) - 1), np.diff(ys))
    heights, widths = np.diff(ys), np.diff(xs)
    window_row_tile = np.concatenate([window_index(int(n), window) for n in heights])
    window_col_tile = np.concatenate([window_index(int(n), window) for n in widths])
    window_row_field, window_col_field = window_index(h, window), window_index(w, window)
    n_tiles = len(heights) * len(widths)
    out = {
        "centre": np.zeros(z),
        "tile_sums": np.zeros((z, n_tiles, len(TILE_SUMS))),
        "field_windows": np.zeros((z, window_row_field[-1] + 1, window_col_field[-1] + 1, 2)),
        "tile_windows": np.zeros(
            (z, n_tiles, window_row_tile.max() + 1, window_col_tile.max() + 1, 2)
        ),
    }
    _plane_sums(
        np.ascontiguousarray(stack),
        float(saturation),
        tile_row,
        xs,
        window_row_field,
        window_col_field,
        window_row_tile,
        window_col_tile,
        out["centre"],
        out["tile_sums"],
        out["field_windows"],
        out["tile_windows"],
    )
    return out
