"""Compare restoration networks trained on one split with one budget: one table.

Per model: parameters, FLOPs per pixel (``torch.utils.flop_counter``), training wall
time, inference megapixels per second through the restore stage's tiler, PSNR and SSIM
of the held-out pairs per |dz|, and segmentation F1 and count error after restoring whole
fields. An ``input`` row gives the same numbers without restoration.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from platefocus.dataset.split import held_out_planes
from platefocus.io.atomic import read_table
from platefocus.model_io.checkpoint import load_model
from platefocus.models.catalog import OPERATOR_ARCHITECTURES, PRIOR_LOSS_LABEL, loss_label
from platefocus.models.registry import apply_model
from platefocus.restore.inference import restore_planes
from platefocus.restore.settings import RestoreConfig

log = logging.getLogger(__name__)


def flops_per_pixel(model: torch.nn.Module, in_channels: int, side: int = 64) -> float:
    """Forward FLOPs per output pixel, counted by ``torch.utils.flop_counter`` on a
    ``side`` x ``side`` input. Operators without a FLOP formula (``grid_sample``'s
    bilinear interpolation, element-wise ops, norms) are not counted."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, in_channels, side, side)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        apply_model(model, x)
    return counter.get_total_flops() / (side * side)


def inference_mpix_per_s(
    model: torch.nn.Module,
    in_channels: int,
    config: RestoreConfig,
    side: int = 512,
    repeats: int = 3,
    seed: int = 0,
) -> float:
    """Megapixels per second restoring one ``side`` x ``side`` plane through the tiler
    (normalisation, tiles, batches, blending), best of ``repeats``, on CPU."""
    rng = np.random.default_rng(seed)
    planes = max(1, in_channels)
    stack = rng.integers(100, 4000, size=(planes + 2, side, side)).astype(np.uint16)
    context = in_channels // 2
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        restore_planes(model, stack, [planes // 2 + 1], config, "cpu", context)
        best = min(best, time.perf_counter() - start)
    return side * side / best / 1e6


def _by_dz(path: str | os.PathLike, column: str) -> dict[int, float]:
    """A ``test_metrics_by_dz.tsv`` column per |dz| (both sides of focus together)."""
    table = read_table(path)
    if "side" in table and (table["side"] == "both").any():
        table = table[table["side"] == "both"]
    out = {}
    for dz, rows in table.groupby("abs_dz"):
        out[int(dz)] = float(np.average(rows[column], weights=rows["n_pairs"]))
    return out


def _segmentation(path: str | os.PathLike, which: str) -> tuple[float, float]:
    """Mean F1 and mean relative count error (|count - truth| / truth) of held-out wells
    (all wells when none is held out), for ``which`` = ``raw`` or ``restored``."""
    planes = held_out_planes(pd.read_parquet(path))
    truth = planes["count_truth"].clip(lower=1)
    error = ((planes[f"count_{which}"] - planes["count_truth"]).abs() / truth).mean()
    return float(planes[f"f1_{which}"].mean()), float(error)


def compare_models(
    names: list[str],
    checkpoints: list[str | os.PathLike],
    timings: list[str | os.PathLike],
    metrics_by_dz: list[str | os.PathLike],
    segmentation_fields: list[str | os.PathLike],
    restore_config: RestoreConfig,
    inference_side: int = 512,
    repeats: int = 3,
    threads: int = 1,
) -> pd.DataFrame:
    """One row per model plus an ``input`` row (no restoration); see the module doc.

    Columns: ``model, architecture, loss, parameters, flops_per_pixel, train_seconds, epochs,
    infer_mpix_per_s, sampling_steps, psnr_dz<d>, ssim_dz<d>`` for every |dz| evaluated,
    ``seg_f1, count_error``.
    """
    torch.set_num_threads(threads)
    rows = []
    for name, ckpt, timing, by_dz, fields in zip(
        names, checkpoints, timings, metrics_by_dz, segmentation_fields, strict=True
    ):
        model, info = load_model(ckpt, "cpu")
        in_channels = info.in_channels
        spent = json.loads(Path(timing).read_text())
        f1, count_error = _segmentation(fields, "restored")
        row = {
            "model": name,
            "architecture": info.architecture,
            # the loss it was trained with: segmentation-oriented (SSIM) or signal (MSE)
            "loss": PRIOR_LOSS_LABEL
            if info.architecture in OPERATOR_ARCHITECTURES
            else loss_label(info.loss),
            "parameters": sum(p.numel() for p in model.parameters()),
            "flops_per_pixel": flops_per_pixel(model, in_channels),
            "train_seconds": spent["train_seconds"],
            "epochs": spent["epochs"],
            "infer_mpix_per_s": inference_mpix_per_s(
                model, in_channels, restore_config, inference_side, repeats
            ),
            # network evaluations per restored tile (DDNM's DDIM steps; 1 for the others)
            "sampling_steps": len(model.schedule()) if hasattr(model, "schedule") else 1,
        }
        for dz, value in _by_dz(by_dz, "psnr_pred").items():
            row[f"psnr_dz{dz}"] = value
        for dz, value in _by_dz(by_dz, "ssim_pred").items():
            row[f"ssim_dz{dz}"] = value
        row.update(seg_f1=f1, count_error=count_error)
        rows.append(row)
        log.info("%s: %s", name, {k: v for k, v in row.items() if k != "model"})
    f1, count_error = _segmentation(segmentation_fields[0], "raw")
    baseline = {"model": "input (no restoration)"}
    for dz, value in _by_dz(metrics_by_dz[0], "psnr_input").items():
        baseline[f"psnr_dz{dz}"] = value
    for dz, value in _by_dz(metrics_by_dz[0], "ssim_input").items():
        baseline[f"ssim_dz{dz}"] = value
    baseline.update(seg_f1=f1, count_error=count_error)
    return pd.DataFrame([*rows, baseline])
