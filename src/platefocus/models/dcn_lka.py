"""A residual network with a deformable-convolution stem and large kernel attention (2D).

Stem: a modulated deformable 3x3 convolution block (:class:`~platefocus.models.deform.
DeformConv2d`). Body: ``blocks`` residual blocks, each a 3x3 convolution, normalisation
and GELU, then **large kernel attention** (LKA, Guo et al., "Visual Attention Network",
2022: a 1x1 convolution of a dilated depth-wise convolution of a depth-wise convolution
of the features, multiplied element-wise with the features), then an MLP (1x1, GELU,
1x1), added to the block input. Then channel attention (squeeze and excitation, as in
RCAN), a 3x3 output convolution and the input added back.

LKA of kernel size K uses a (2d - 1) depth-wise convolution and a K // d dilated one with
dilation d = 3 (K = 21: 5x5, then 7x7 dilated by 3, as in the VAN paper).

Normalisation is a per-pixel LayerNorm (default) or BatchNorm (per channel, fixed at
inference; unstable off the training intensities, see :func:`build_dcn_lka`);
channel attention averages over the whole tile, the network's one global operation.
"""

from __future__ import annotations

import torch

from platefocus.models.deform import OFFSET_LR_SCALE, DeformConv2d
from platefocus.models.padding import PadToMultiple
from platefocus.models.registry import register
from platefocus.models.restormer import ChannelLayerNorm, RestormerResidual


class LargeKernelAttention(torch.nn.Module):
    """``x * conv1x1(dilated_depthwise(depthwise(x)))`` with an effective K x K field."""

    def __init__(self, dim: int, kernel_size: int = 21, dilation: int = 3) -> None:
        super().__init__()
        local = 2 * dilation - 1
        far = max(1, kernel_size // dilation)
        far += 1 - far % 2  # odd
        self.depthwise = torch.nn.Conv2d(dim, dim, local, padding=local // 2, groups=dim)
        self.dilated = torch.nn.Conv2d(
            dim, dim, far, padding=dilation * (far // 2), dilation=dilation, groups=dim
        )
        self.pointwise = torch.nn.Conv2d(dim, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.pointwise(self.dilated(self.depthwise(x)))


class LKABlock(torch.nn.Module):
    """Convolution, norm, LKA and MLP, added to the block input."""

    def __init__(self, dim: int, kernel_size: int, mlp_ratio: float, norm: str) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(dim, dim, 3, padding=1)
        self.norm = ChannelLayerNorm(dim) if norm == "layer" else torch.nn.BatchNorm2d(dim)
        self.lka = LargeKernelAttention(dim, kernel_size)
        hidden = int(dim * mlp_ratio)
        self.mlp = torch.nn.Sequential(
            torch.nn.Conv2d(dim, hidden, 1), torch.nn.GELU(), torch.nn.Conv2d(hidden, dim, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.nn.functional.gelu(self.norm(self.conv(x)))
        return x + self.mlp(self.lka(y))


class ChannelAttention(torch.nn.Module):
    """Squeeze and excitation: channels re-weighted by a gate on their spatial means."""

    def __init__(self, dim: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = max(1, dim // reduction)
        self.gate = torch.nn.Sequential(
            torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Conv2d(dim, hidden, 1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(hidden, dim, 1),
            torch.nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class DCNLKANet(torch.nn.Module):
    """Stem, residual LKA blocks, channel attention, output (see module doc)."""

    def __init__(
        self,
        in_channels: int,
        width: int,
        blocks: int,
        kernel_size: int,
        mlp_ratio: float,
        norm: str,
        offset_lr_scale: float,
    ) -> None:
        super().__init__()
        stem = DeformConv2d(in_channels, width, 3, offset_lr_scale=offset_lr_scale)
        self.stem = torch.nn.Sequential(stem, torch.nn.GELU())
        self.body = torch.nn.Sequential(
            *[LKABlock(width, kernel_size, mlp_ratio, norm) for _ in range(blocks)]
        )
        self.attention = ChannelAttention(width)
        self.output = torch.nn.Conv2d(width, 1, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = x + self.attention(self.body(x))
        return self.output(x)


@register("dcn_lka")
def build_dcn_lka(
    spatial_dims: int = 2,
    in_channels: int = 1,
    width: int = 32,
    blocks: int = 4,
    kernel_size: int = 21,
    mlp_ratio: float = 2.0,
    norm: str = "layer",
    offset_lr_scale: float = OFFSET_LR_SCALE,
) -> torch.nn.Module:
    """A DCN + LKA residual network: ``blocks`` blocks of ``width`` channels, LKA of
    ``kernel_size``; ``norm`` ``"layer"`` (per pixel, default) or ``"batch"``;
    ``offset_lr_scale`` as DeRestormer's. 2D only.

    Why per-pixel LayerNorm: LKA multiplies the features by a function of themselves, so
    with BatchNorm (an affine map at inference) each block squares the input's scale and
    four blocks raise it to the 16th power. Trained on the demo plate with BatchNorm, the
    network restored its 64-px training patches well but returned values up to 1e9 on
    whole-plane tiles whose point-reflected borders (``restore.border: odd``) reach -1 in
    normalised units, and 1e7 for a plane shifted by -0.3: the restored plate was
    clipped garbage. LayerNorm normalises each pixel's features before the product.
    Its paper trains it with MSE: set ``training.loss: {mse: 1.0}`` to match."""
    if spatial_dims != 2:
        raise ValueError("dcn_lka is 2D only (its deformable stem is 2D)")
    if norm not in ("batch", "layer"):
        raise ValueError(f"norm must be 'batch' or 'layer', got {norm!r}")
    if kernel_size < 3:
        raise ValueError(f"kernel_size must be >= 3, got {kernel_size}")
    net = DCNLKANet(in_channels, width, blocks, kernel_size, mlp_ratio, norm, offset_lr_scale)
    return RestormerResidual(PadToMultiple(net, 1), in_channels // 2)
