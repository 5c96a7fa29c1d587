"""Test-split evaluation: PSNR and SSIM of input and prediction against the target.

Metrics are computed per pair in normalised units with ``data_range = 1`` (the input
plane's normalisation percentile range), with scikit-image's implementations.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from platefocus.io.pairs import read_split
from platefocus.models.registry import apply_model


@torch.no_grad()
def predict(
    model: torch.nn.Module,
    x: np.ndarray,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    dz: np.ndarray | None = None,
) -> np.ndarray:
    """Model output for (N, C, P, P) inputs, batched; returns (N, 1, P, P) float32.
    ``dz`` (N,): each input's plane offset from focus, for networks that take it (DDNM)."""
    model.eval()
    out = []
    for i in range(0, len(x), batch_size):
        xb = torch.from_numpy(np.ascontiguousarray(x[i : i + batch_size])).to(device)
        offsets = None if dz is None else torch.as_tensor(np.array(dz[i : i + batch_size]))
        out.append(apply_model(model, xb, offsets).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 1, *x.shape[2:]), np.float32)


def pair_metrics(image: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """``(psnr, ssim)`` of a 2D image against a 2D target, data range 1."""
    image = image.astype(np.float64)
    target = target.astype(np.float64)
    psnr = peak_signal_noise_ratio(target, image, data_range=1.0)
    ssim = structural_similarity(target, image, data_range=1.0, win_size=7)
    return float(psnr), float(ssim)


def evaluate_split(
    model: torch.nn.Module,
    dataset_path: str | os.PathLike,
    table: pd.DataFrame,
    split: str = "test",
    batch_size: int = 32,
    device: str | torch.device = "cpu",
) -> pd.DataFrame:
    """One row per pair of the split: its table columns plus ``abs_dz, psnr_input,
    psnr_pred, ssim_input, ssim_pred``."""
    x, y, idx = read_split(dataset_path, table, split)
    if len(idx) == 0:
        wells = table.groupby("split")["well"].nunique().to_dict()
        raise ValueError(
            f"the {split} split is empty: nothing to evaluate (wells per split: {wells}); "
            "more wells with kept targets, or other dataset.split_fractions, are needed"
        )
    rows = table.iloc[idx].reset_index().rename(columns={"index": "pair"})
    pred = predict(model, x, batch_size, device, rows["dz"].to_numpy())
    centre = x.shape[1] // 2
    metrics = [
        (*pair_metrics(x[i, centre], y[i, 0]), *pair_metrics(pred[i, 0], y[i, 0]))
        for i in range(len(idx))
    ]
    m = np.array(metrics)
    rows["abs_dz"] = rows["dz"].abs()
    rows["psnr_input"], rows["ssim_input"] = m[:, 0], m[:, 1]
    rows["psnr_pred"], rows["ssim_pred"] = m[:, 2], m[:, 3]
    return rows


def summarise_by_dz(per_pair: pd.DataFrame) -> pd.DataFrame:
    """Mean metrics per ``|dz|`` and side (``above``, ``below`` and ``both``)."""
    cols = ["psnr_input", "psnr_pred", "ssim_input", "ssim_pred"]
    by_side = per_pair.groupby(["abs_dz", "side"])[cols].mean()
    both = per_pair.groupby("abs_dz")[cols].mean().assign(side="both")
    both = both.set_index("side", append=True)
    n = per_pair.groupby(["abs_dz", "side"]).size().rename("n_pairs")
    n_both = per_pair.groupby("abs_dz").size().rename("n_pairs").to_frame().assign(side="both")
    n_both = n_both.set_index("side", append=True)["n_pairs"]
    out = pd.concat([by_side.join(n), both.join(n_both)]).reset_index()
    return out.sort_values(["abs_dz", "side"]).reset_index(drop=True)
