"""Restoration with every step on the model's device (a GPU): normalisation, padding,
tiling, blending and the inverse normalisation as torch operations, so that the host only
reads the stack and writes the result.

The NumPy path (:func:`platefocus.restore.inference.restore_planes`) does the same steps
on the CPU in float64; on a GPU it would leave the device waiting for the host. This path
computes in float32 and agrees with it to the rounding of the output dtype (tested on CPU,
where both run). Same layout (:func:`platefocus.restore.tiling.plan_tiles`), same
point-reflection padding, same blending window.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from platefocus.restore.settings import RestoreConfig
from platefocus.restore.tiling import TileLayout, blend_window, plan_tiles


def _pad(planes: torch.Tensor, layout: TileLayout, reflect_type: str) -> torch.Tensor:
    """(P, C, Y, X) planes padded like :func:`platefocus.restore.tiling.pad_plane`."""
    before = layout.pad
    after_y = layout.padded_shape[0] - planes.shape[2] - before
    after_x = layout.padded_shape[1] - planes.shape[3] - before
    # one axis after the other, as numpy.pad does (the corners depend on the order)
    for widths in ((0, 0, before, after_y), (before, after_x, 0, 0)):  # F.pad: x first
        mirror = F.pad(planes, widths, mode="reflect")
        if reflect_type == "even":
            planes = mirror
        else:  # point reflection about the border pixel: 2 * edge - mirror
            planes = 2 * F.pad(planes, widths, mode="replicate") - mirror
    return planes


def fits_on_device(shape: Sequence[int], config: RestoreConfig) -> bool:
    """Whether the plane is larger than its padding on both axes (reflect needs it); the
    NumPy path handles the rest."""
    layout = plan_tiles(tuple(shape), config.tile, config.overlap)
    after = max(layout.padded_shape[i] - shape[i] - layout.pad for i in (0, 1))
    return min(shape) > max(layout.pad, after)


@torch.no_grad()
def restore_planes_on_device(
    model: torch.nn.Module,
    stack: np.ndarray,
    planes: Sequence[int],
    config: RestoreConfig,
    device: torch.device | str,
    context_planes: int = 0,
) -> np.ndarray:
    """:func:`platefocus.restore.inference.restore_planes` with the work on ``device``.

    Parameters and result as there: ``stack`` (Z, Y, X) of any real dtype; returns
    (len(planes), Y, X) of ``stack.dtype``.
    """
    device = torch.device(device)
    stack = np.asarray(stack)
    layout = plan_tiles(stack.shape[1:], config.tile, config.overlap)
    wanted = sorted(
        {
            min(max(k + j, 0), len(stack) - 1)
            for k in planes
            for j in range(-context_planes, context_planes + 1)
        }
    )
    source = stack[wanted]
    if source.dtype.kind == "u" and source.dtype.itemsize > 1:  # few torch kernels
        source = source.astype(np.int32 if source.dtype.itemsize == 2 else np.float64)
    x = torch.from_numpy(np.ascontiguousarray(source)).to(device).float()
    where = {z: i for i, z in enumerate(wanted)}
    q = torch.tensor([p / 100 for p in config.percentiles], device=device)
    centre = torch.tensor([where[k] for k in planes], device=device)
    bounds = torch.quantile(x[centre].flatten(1), q, dim=1)  # (2, P)
    lo, hi = bounds[0], bounds[1]
    span = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
    channels = [
        [
            where[min(max(k + j, 0), len(stack) - 1)]
            for j in range(-context_planes, context_planes + 1)
        ]
        for k in planes
    ]
    normed = (x[torch.tensor(channels, device=device)] - lo[:, None, None, None]) / span[
        :, None, None, None
    ]  # (P, C, Y, X)
    padded = _pad(normed, layout, config.border)
    t = layout.tile
    tiles = torch.stack([padded[:, :, y : y + t, x0 : x0 + t] for y, x0 in layout.starts], 1)
    n_planes, n_tiles = tiles.shape[:2]
    tiles = tiles.reshape(n_planes * n_tiles, *tiles.shape[2:])
    predictions = torch.empty((len(tiles), t, t), device=device)
    use_bf16 = config.bf16 and device.type == "cuda"
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    for i in range(0, len(tiles), config.batch_size):
        xb = tiles[i : i + config.batch_size].contiguous(memory_format=memory_format)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            predictions[i : i + len(xb)] = model(xb)[:, 0].float()
    predictions = predictions.reshape(n_planes, n_tiles, t, t)
    window = torch.from_numpy(blend_window(t, config.overlap)).to(device, torch.float32)
    acc = torch.zeros((n_planes, *layout.padded_shape), device=device)
    weight = torch.zeros(layout.padded_shape, device=device)
    for i, (y, x0) in enumerate(layout.starts):
        acc[:, y : y + t, x0 : x0 + t] += window * predictions[:, i]
        weight[y : y + t, x0 : x0 + t] += window
    b, (h, w) = layout.pad, stack.shape[1:]
    out = (acc / weight)[:, b : b + h, b : b + w] * span[:, None, None] + lo[:, None, None]
    return _to_numpy(out, stack.dtype)


def _to_numpy(values: torch.Tensor, dtype: np.dtype) -> np.ndarray:
    """Clip to the dtype's range and round integers on the device (as
    :func:`platefocus.restore.inference.to_dtype`), then copy to the host."""
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        values = torch.clamp(torch.round(values), info.min, info.max)
        # torch's unsigned 16/32-bit types have few kernels: carry them in int64
        return values.to(torch.int64).cpu().numpy().astype(dtype)
    return values.to(torch.float64).cpu().numpy().astype(dtype)
