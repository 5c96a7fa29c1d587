"""Deformable sampling for 2D networks: deformable convolution and deformable attention.

``torchvision.ops.deform_conv2d`` is not used: the torchvision wheels that match the
pinned torch 2.13.0 are CUDA builds whose compiled operators do not load with the CPU
torch wheel (``operator torchvision::nms does not exist``), and newer torchvision
requires another torch. Both operators here are built on
``torch.nn.functional.grid_sample`` (bilinear, zero outside the image), which runs on CPU
and CUDA and has gradients for the input and the sampling positions. They are 2D only:
``grid_sample`` also samples 3D volumes (trilinear), but the networks that use these
blocks are defined and tested in 2D.

Offsets are in pixels, ``(dy, dx)`` per kernel position, laid out as torchvision's:
channel ``2k`` is dy and ``2k + 1`` is dx of kernel position ``k`` (row-major).

The layers that predict sampling positions carry an ``lr_scale`` attribute (the
``offset_lr_scale`` argument): the training loop gives their parameters that fraction of
the learning rate (:func:`platefocus.train.optim.parameter_groups`), as DCNv2 and Deformable
DETR train their offset predictors at 0.1x; at the full rate a few large steps move the
sampling positions pixels away and the features that follow are trained on noise.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# The fraction of the learning rate the offset predictors train at by default: 0.1, as
# DCNv2 and Deformable DETR; at 1.0 DeRestormer's validation loss tripled at the peak
# learning rate and early stopping kept its epoch-2 weights (benchmarks/
# study_derestormer.py measures both).
OFFSET_LR_SCALE = 0.1


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def sample_bilinear(x: torch.Tensor, y_pos: torch.Tensor, x_pos: torch.Tensor) -> torch.Tensor:
    """Sample ``x`` (B, C, H, W) at pixel positions ``y_pos``, ``x_pos`` (B, h, w) each.

    Pixel centres are at integer positions; values outside the image are zero, with the
    bilinear weights of the neighbours inside kept (as in deformable convolution).

    Returns
    -------
    (B, C, h, w) tensor
    """
    h_in, w_in = x.shape[-2:]
    # grid_sample with align_corners=False maps -1..1 to the outer pixel edges.
    grid = torch.stack(((2 * x_pos + 1) / w_in - 1, (2 * y_pos + 1) / h_in - 1), dim=-1).to(x.dtype)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def deform_conv2d(
    x: torch.Tensor,
    offset: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Deformable convolution (Dai et al. 2017; with ``mask``, modulated: Zhu et al. 2019).

    Parameters
    ----------
    x : (B, C, H, W)
    offset : (B, 2 * kh * kw, Ho, Wo)
        Pixel offsets (dy, dx) of every kernel position at every output pixel.
    weight : (O, C, kh, kw)
    mask : (B, kh * kw, Ho, Wo), optional
        Modulation of every sampled value.

    Returns
    -------
    (B, O, Ho, Wo); zero offsets and no mask give ``F.conv2d`` exactly up to rounding.
    """
    b, c, h, w = x.shape
    o, c_w, kh, kw = weight.shape
    if c_w != c:
        raise ValueError(f"weight expects {c_w} input channels, x has {c}")
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    k = kh * kw
    if offset.shape != (b, 2 * k, ho, wo):
        raise ValueError(f"offset must be {(b, 2 * k, ho, wo)}, got {tuple(offset.shape)}")
    base_y = (torch.arange(ho, device=x.device, dtype=x.dtype) * sh - ph).view(1, ho, 1)
    base_x = (torch.arange(wo, device=x.device, dtype=x.dtype) * sw - pw).view(1, 1, wo)
    ky = (torch.arange(kh, device=x.device, dtype=x.dtype) * dh).repeat_interleave(kw)
    kx = (torch.arange(kw, device=x.device, dtype=x.dtype) * dw).repeat(kh)
    off = offset.view(b, k, 2, ho, wo)
    # All kernel positions in one grid_sample call: (B, k * Ho, Wo) positions.
    y_pos = (base_y.unsqueeze(1) + ky.view(1, k, 1, 1) + off[:, :, 0]).reshape(b, k * ho, wo)
    x_pos = (base_x.unsqueeze(1) + kx.view(1, k, 1, 1) + off[:, :, 1]).reshape(b, k * ho, wo)
    sampled = sample_bilinear(x, y_pos, x_pos).view(b, c, k, ho, wo)
    if mask is not None:
        sampled = sampled * mask.view(b, 1, k, ho, wo)
    out = torch.einsum("bckhw,ock->bohw", sampled, weight.reshape(o, c, k))
    if bias is not None:
        out = out + bias.view(1, o, 1, 1)
    return out


class DeformConv2d(torch.nn.Module):
    """A modulated deformable convolution whose offsets and mask come from its input.

    A plain convolution predicts ``2 * k`` offsets and ``k`` modulation values per output
    pixel. Both predictors start at zero and the mask is ``2 * sigmoid``, so an untrained
    block is exactly an ordinary convolution and learns where to deform.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        dilation: int = 1,
        bias: bool = True,
        offset_lr_scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.stride, self.dilation = stride, dilation
        self.padding = dilation * (kernel_size - 1) // 2 if padding is None else padding
        k = kernel_size * kernel_size
        self.weight = torch.nn.Parameter(
            torch.empty(out_channels, in_channels, kernel_size, kernel_size)
        )
        self.bias = torch.nn.Parameter(torch.zeros(out_channels)) if bias else None
        torch.nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.offset_mask = torch.nn.Conv2d(
            in_channels,
            3 * k,
            kernel_size,
            stride=stride,
            padding=self.padding,
            dilation=dilation,
        )
        torch.nn.init.zeros_(self.offset_mask.weight)
        torch.nn.init.zeros_(self.offset_mask.bias)
        self.offset_mask.lr_scale = offset_lr_scale
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pred = self.offset_mask(x)
        offset, mask = pred[:, : 2 * self.k], 2 * torch.sigmoid(pred[:, 2 * self.k :])
        return deform_conv2d(
            x, offset, self.weight, self.bias, self.stride, self.padding, self.dilation, mask
        )


class DeformableAttention2d(torch.nn.Module):
    """Deformable attention (Zhu et al. 2021, "Deformable DETR", on feature maps).

    Every pixel (query) attends, in each head, to ``points`` sampling positions around
    itself: offsets (pixels) and attention weights are predicted from the query by 1x1
    convolutions, values are sampled bilinearly there, weighted (softmax over the points)
    and summed. Cost grows with pixels x points, not pixels squared or channels squared,
    and a pixel's output depends only on its neighbourhood, so tiles do not change it.
    Offsets start as a ring of radius 1..``points / 8`` around the query (as in
    Deformable DETR), attention weights start uniform.
    """

    def __init__(
        self, dim: int, heads: int = 1, points: int = 8, offset_lr_scale: float = 1.0
    ) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        self.heads, self.points = heads, points
        self.value = torch.nn.Conv2d(dim, dim, 1)
        self.offsets = torch.nn.Conv2d(dim, heads * points * 2, 1)
        self.weights = torch.nn.Conv2d(dim, heads * points, 1)
        self.project = torch.nn.Conv2d(dim, dim, 1)
        self.offsets.lr_scale = offset_lr_scale
        torch.nn.init.zeros_(self.offsets.weight)
        torch.nn.init.zeros_(self.weights.weight)
        torch.nn.init.zeros_(self.weights.bias)
        angles = torch.arange(heads * points, dtype=torch.float32) * (
            2 * math.pi / max(points, 1)
        ) + torch.arange(heads).repeat_interleave(points) * (math.pi / max(heads * points, 1))
        radius = 1.0 + (torch.arange(points, dtype=torch.float32) // 8).repeat(heads)
        ring = torch.stack((radius * torch.sin(angles), radius * torch.cos(angles)), dim=-1)
        with torch.no_grad():
            self.offsets.bias.copy_(ring.reshape(-1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        g, p = self.heads, self.points
        value = self.value(x).reshape(b * g, c // g, h, w)
        off = self.offsets(x).view(b, g, p, 2, h, w).reshape(b * g, p, 2, h, w)
        attn = self.weights(x).view(b, g, p, h, w).softmax(dim=2).reshape(b * g, 1, p, h, w)
        ys = torch.arange(h, device=x.device, dtype=x.dtype).view(1, 1, h, 1)
        xs = torch.arange(w, device=x.device, dtype=x.dtype).view(1, 1, 1, w)
        y_pos = (ys + off[:, :, 0]).reshape(b * g, p * h, w)
        x_pos = (xs + off[:, :, 1]).reshape(b * g, p * h, w)
        sampled = sample_bilinear(value, y_pos, x_pos).view(b * g, c // g, p, h, w)
        out = (sampled * attn).sum(dim=2).reshape(b, c, h, w)
        return self.project(out)
