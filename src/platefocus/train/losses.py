"""Losses: L1, MSE, SSIM and MS-SSIM (``pytorch_msssim``), and weighted sums of them.

Images are in normalised units (the input plane's normalisation percentile maps to 0..1),
so SSIM uses ``data_range = 1``. SSIM-type losses favour structure (what segmentation
needs); MSE favours the signal (what intensity measurements need).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

LOSSES = ("l1", "mse", "ssim", "ms_ssim")


class WeightedLoss(torch.nn.Module):
    """``sum(weight * loss)`` over named terms; SSIM terms enter as ``1 - SSIM``.

    Parameters
    ----------
    weights : mapping of str to float
        Term name (``l1``, ``mse``, ``ssim``, ``ms_ssim``) to weight; at least one
        positive weight.
    """

    def __init__(self, weights: Mapping[str, float]) -> None:
        super().__init__()
        unknown = set(weights) - set(LOSSES)
        if unknown:
            raise ValueError(f"unknown loss term(s) {sorted(unknown)}; choose from {LOSSES}")
        self.weights = {k: float(v) for k, v in weights.items() if v}
        if not self.weights or min(self.weights.values()) < 0:
            raise ValueError(f"loss weights must be non-negative with one positive: {weights}")

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        total = pred.new_zeros(())
        for name, weight in self.weights.items():
            total = total + weight * self.term(name, pred, target)
        return total

    @staticmethod
    def term(name: str, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        pred, target = pred.float(), target.float()
        if name == "l1":
            return torch.nn.functional.l1_loss(pred, target)
        if name == "mse":
            return torch.nn.functional.mse_loss(pred, target)
        from pytorch_msssim import ssim

        if name == "ssim":
            return 1 - ssim(pred, target, data_range=1.0, size_average=True, win_size=7)
        return 1 - ms_ssim_small(pred, target)


def ms_ssim_small(pred: torch.Tensor, target: torch.Tensor, win_size: int = 7) -> torch.Tensor:
    """MS-SSIM (Wang et al. 2003) over as many of its five scales as the image allows.

    ``pytorch_msssim.ms_ssim`` asserts a side above ``(win - 1) * 16`` px whatever the
    number of scales, which rules out training patches of 64 px; this runs the same
    per-scale computation (its ``_ssim``) on the scales that fit, with the standard
    weights renormalised.
    """
    from pytorch_msssim.ssim import _fspecial_gauss_1d, _ssim

    weights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    side = min(pred.shape[2:])
    scales = 1
    while scales < len(weights) and side // 2**scales >= win_size:
        scales += 1
    w = torch.tensor(weights[:scales], dtype=pred.dtype, device=pred.device)
    w = w / w.sum()
    win = _fspecial_gauss_1d(win_size, 1.5).repeat([pred.shape[1]] + [1] * (pred.ndim - 1))
    win = win.to(pred.device, pred.dtype)
    pool = torch.nn.functional.avg_pool2d if pred.ndim == 4 else torch.nn.functional.avg_pool3d
    values = []
    x, y = pred, target
    for i in range(scales):
        ssim_per_channel, cs = _ssim(x, y, data_range=1.0, win=win, size_average=False)
        if i < scales - 1:
            values.append(torch.relu(cs))
            x, y = pool(x, 2), pool(y, 2)
    values.append(torch.relu(ssim_per_channel))
    stacked = torch.stack(values, dim=0)
    return torch.prod(stacked ** w.view(-1, 1, 1), dim=0).mean()
