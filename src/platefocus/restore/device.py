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

import functools
from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass
class DeviceInput:
    """What the device needs of a field, made ready on the host (a reader thread).

    ``source``: the planes used, float32 (exact for 8/16-bit values), in page-locked
    memory when the device is a GPU, so that the copy to it is asynchronous; ``centre``:
    the index in ``source`` of each restored plane; ``channels``: per restored plane, the
    indices of its input channels (itself and its context planes).
    """

    source: torch.Tensor
    centre: list[int]
    channels: list[list[int]]
    shape: tuple[int, int]
    dtype: np.dtype


def prepare_input(
    stack: np.ndarray, planes: Sequence[int], context_planes: int = 0, pin: bool = False
) -> DeviceInput:
    """The host side of :func:`restore_planes_on_device`: the planes that ``planes`` and
    their context (clamped at the stack's ends) need, as float32 (pinned if ``pin``)."""
    stack = np.asarray(stack)
    last = len(stack) - 1
    around = [
        [min(max(k + j, 0), last) for j in range(-context_planes, context_planes + 1)]
        for k in planes
    ]
    wanted = sorted({z for chans in around for z in chans} | set(planes))
    where = {z: i for i, z in enumerate(wanted)}
    source = torch.from_numpy(np.ascontiguousarray(stack[wanted], dtype=np.float32))
    if pin:
        source = source.pin_memory()
    return DeviceInput(
        source,
        [where[k] for k in planes],
        [[where[z] for z in chans] for chans in around],
        tuple(stack.shape[1:]),
        stack.dtype,
    )


class PendingPlanes:
    """Restored planes whose copy to the host may still be in flight (CUDA); ``numpy()``
    waits for it and returns (planes, Y, X) of the input dtype."""

    def __init__(self, host: torch.Tensor, dtype: np.dtype, event: torch.cuda.Event | None):
        self._host, self._dtype, self._event = host, np.dtype(dtype), event

    def numpy(self) -> np.ndarray:
        if self._event is not None:
            self._event.synchronize()
        return self._host.numpy().astype(self._dtype)


@functools.lru_cache(maxsize=8)
def _window_on(tile: int, overlap: int, device: torch.device) -> torch.Tensor:
    """The blending window on the device, made once (each host-to-device copy from
    ordinary memory would make the host wait for the device's queue)."""
    return torch.from_numpy(blend_window(tile, overlap)).to(device, torch.float32)


def _linear_quantiles(values: torch.Tensor, q: Sequence[float]) -> torch.Tensor:
    """(len(q), rows) quantiles of each row of ``values``, linear interpolation between
    order statistics (``torch.quantile``'s and NumPy's default), from one sort.
    ``torch.quantile`` checks its ``q`` on the device, which waits for the device's queue."""
    ordered = values.sort(dim=1).values
    n = ordered.shape[1]
    out = []
    for fraction in q:
        position = fraction * (n - 1)
        k = int(np.floor(position))
        above = min(k + 1, n - 1)
        out.append(ordered[:, k] + (position - k) * (ordered[:, above] - ordered[:, k]))
    return torch.stack(out)


@torch.no_grad()
def launch_on_device(
    model: torch.nn.Module, prepared: DeviceInput, config: RestoreConfig, device: torch.device | str
) -> PendingPlanes:
    """Queue a field's restoration on ``device`` without waiting for it.

    Nothing here waits for the device: the input comes from page-locked memory, indices
    are Python integers, the quantiles come from a sort, the blending window is cached,
    and the result goes back by an asynchronous copy that :class:`PendingPlanes` waits
    for. So one thread can queue the next field while the device works on this one.
    """
    device = torch.device(device)
    cuda = device.type == "cuda"
    layout = plan_tiles(prepared.shape, config.tile, config.overlap)
    x = prepared.source.to(device, non_blocking=cuda)
    centre = torch.stack([x[i] for i in prepared.centre]).flatten(1)
    lo, hi = _linear_quantiles(centre, [p / 100 for p in config.percentiles])
    span = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
    stacked = torch.stack([torch.stack([x[c] for c in chans]) for chans in prepared.channels])
    normed = (stacked - lo[:, None, None, None]) / span[:, None, None, None]  # (P, C, Y, X)
    padded = _pad(normed, layout, config.border)
    t = layout.tile
    tiles = torch.stack([padded[:, :, y : y + t, x0 : x0 + t] for y, x0 in layout.starts], 1)
    n_planes, n_tiles = tiles.shape[:2]
    tiles = tiles.reshape(n_planes * n_tiles, *tiles.shape[2:])
    predictions = torch.empty((len(tiles), t, t), device=device)
    use_bf16 = config.uses_bf16(device)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    for i in range(0, len(tiles), config.batch_size):
        xb = tiles[i : i + config.batch_size].contiguous(memory_format=memory_format)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            predictions[i : i + len(xb)] = model(xb)[:, 0].float()
    predictions = predictions.reshape(n_planes, n_tiles, t, t)
    window = _window_on(t, config.overlap, device)
    acc = torch.zeros((n_planes, *layout.padded_shape), device=device)
    weight = torch.zeros(layout.padded_shape, device=device)
    for i, (y, x0) in enumerate(layout.starts):
        acc[:, y : y + t, x0 : x0 + t] += window * predictions[:, i]
        weight[y : y + t, x0 : x0 + t] += window
    b, (h, w) = layout.pad, prepared.shape
    out = (acc / weight)[:, b : b + h, b : b + w] * span[:, None, None] + lo[:, None, None]
    return _to_host(out, prepared.dtype, cuda)


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
    prepared = prepare_input(stack, planes, context_planes, pin=device.type == "cuda")
    return launch_on_device(model, prepared, config, device).numpy()


def _to_host(values: torch.Tensor, dtype: np.dtype, asynchronous: bool) -> PendingPlanes:
    """Clip to the dtype's range and round integers on the device (as
    :func:`platefocus.restore.inference.to_dtype`), then copy to the host (into
    page-locked memory, without waiting, when ``asynchronous``)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        values = torch.clamp(torch.round(values), info.min, info.max)
        # torch's unsigned 16/32-bit types have few kernels: carry them in a signed type
        values = values.to(torch.int32 if dtype.itemsize <= 2 else torch.int64)
    else:
        values = values.to(torch.float64)
    if not asynchronous:
        return PendingPlanes(values.cpu(), dtype, None)
    host = torch.empty(values.shape, dtype=values.dtype, pin_memory=True)
    host.copy_(values, non_blocking=True)
    event = torch.cuda.Event()
    event.record()
    return PendingPlanes(host, dtype, event)
