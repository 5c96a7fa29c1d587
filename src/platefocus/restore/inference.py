"""Restore planes with a trained network: normalise, tile, batch, predict, blend, undo.

Normalisation is the training one (the plane's own percentiles, stored in the checkpoint)
and is undone after blending; the result is clipped to the input dtype's range and
rounded for integers, never wrapped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

from platefocus.dataset.normalise import (
    apply_range,
    percentile_range,
    undo_range,
)
from platefocus.models.registry import apply_model, takes_offset
from platefocus.restore.batching import choose_batch_size
from platefocus.restore.device import fits_on_device, restore_planes_on_device
from platefocus.restore.settings import RestoreConfig
from platefocus.restore.tiling import blend_tiles, cut_tiles, pad_plane, plan_tiles


def to_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Cast restored values to the input dtype: clip to its range and round integers."""
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)


@torch.no_grad()
def run_batches(
    model: torch.nn.Module,
    tiles: np.ndarray,
    batch_size: int,
    device: torch.device,
    bf16: bool,
    channels_last: bool = False,
    dz: np.ndarray | None = None,
) -> np.ndarray:
    """Model output for (N, C, T, T) float32 tiles, ``batch_size`` at a time -> (N, T, T).
    ``bf16``: run the network under bfloat16 autocast (on ``device``, whatever it is:
    see :meth:`RestoreConfig.uses_bf16`).
    ``dz`` (N,): each tile's plane offset from focus, for networks that take it (DDNM)."""
    out = np.empty((len(tiles), *tiles.shape[2:]), dtype=np.float32)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    for i in range(0, len(tiles), batch_size):
        xb = torch.from_numpy(tiles[i : i + batch_size]).to(device, non_blocking=True)
        xb = xb.contiguous(memory_format=memory_format)
        offsets = None if dz is None else torch.as_tensor(dz[i : i + batch_size], device=device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            pred = apply_model(model, xb, offsets)
        out[i : i + len(xb)] = pred[:, 0].float().cpu().numpy()
    return out


def restore_planes(
    model: torch.nn.Module,
    stack: np.ndarray,
    planes: Sequence[int],
    config: RestoreConfig,
    device: torch.device | str = "cpu",
    context_planes: int = 0,
    offsets: Sequence[int | None] | None = None,
) -> np.ndarray:
    """Restore chosen planes of a Z-stack.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (B, 1 + 2 * context_planes, T, T) normalised tiles to (B, 1, T, T).
    stack : (Z, Y, X) array
        One channel of a field, any real dtype.
    planes : sequence of int
        Positions along the stack (0-based) to restore.
    context_planes : int
        Neighbouring planes given as extra channels (clamped at the stack's ends).
    offsets : sequence of int, optional
        Each plane's offset from the field's best plane (planes, signed), for networks
        that restore with the operator of their offset (DDNM); None (or an unknown
        offset): 0.

    Returns
    -------
    restored : (len(planes), Y, X) array of ``stack.dtype``
    """
    device = torch.device(device)
    stack = np.asarray(stack)
    if config.batch_size == "auto":
        batch = choose_batch_size(model, config, 1 + 2 * context_planes, device)
        config = dataclasses.replace(config, batch_size=batch)
    with_offsets = takes_offset(model)
    # Two tilers, kept on purpose: on a GPU the NumPy steps below would keep the device
    # waiting; on a CPU the torch tiler's own work (pad, cut, blend, normalise) is slower
    # than the NumPy one's (identity network: 31.4 against 53.1 Mpix/s), end to end they
    # are equal with the demo Restormer (NumPy/torch 0.98) and give the same grey levels
    # (`python benchmarks/bench_tiler.py`, 2 cores, 2026-12-05). DDNM's per-plane offsets
    # run on the NumPy path only.
    if device.type != "cpu" and fits_on_device(stack.shape[1:], config) and not with_offsets:
        return restore_planes_on_device(model, stack, planes, config, device, context_planes)
    layout = plan_tiles(stack.shape[1:], config.tile, config.overlap)
    tiles, norms = [], []
    for k in planes:
        lo, hi = percentile_range(stack[k], config.percentiles)
        channels = [
            min(max(k + j, 0), len(stack) - 1) for j in range(-context_planes, context_planes + 1)
        ]
        normed = [apply_range(stack[c], lo, hi) for c in channels]
        padded = [pad_plane(p, layout, config.border) for p in normed]
        tiles.append(np.stack([cut_tiles(p, layout) for p in padded], 1))
        norms.append((lo, hi))
    n_tiles = len(layout.starts)
    batch = np.concatenate(tiles).astype(np.float32)
    dz = None
    if with_offsets:
        per_plane = [0 if d is None else int(d) for d in (offsets or [0] * len(planes))]
        dz = np.repeat(np.asarray(per_plane, np.int64), len(layout.starts))
    predictions = run_batches(
        model, batch, config.batch_size, device, config.uses_bf16(device), config.channels_last, dz
    )
    out = np.empty((len(planes), *stack.shape[1:]), dtype=stack.dtype)
    for i, (lo, hi) in enumerate(norms):
        plane = blend_tiles(predictions[i * n_tiles : (i + 1) * n_tiles], layout, config.overlap)
        out[i] = to_dtype(undo_range(plane, lo, hi), stack.dtype)
    return out
