"""DeRestormer: a Restormer-style encoder-decoder with deformable attention (2D).

The layout is Restormer's (Zamir et al., CVPR 2022): a 3x3 embedding, ``levels`` encoder
levels joined by pixel-unshuffle down-sampling, decoder levels joined by pixel-shuffle
up-sampling with skip connections, refinement blocks, a 3x3 output convolution and the
input added back. Each transformer block replaces Restormer's transposed (channel)
attention with **deformable attention** (:class:`~platefocus.models.deform.
DeformableAttention2d`: each pixel attends to a few sampling positions predicted from its
own features) and keeps the gated-Dconv feed-forward network (MONAI's ``FeedForward``).
The bottleneck (latent level) adds **deformable convolutions**. Norms are per-pixel
LayerNorms, so nothing pools over the whole tile.

2D only: the deformable operators are 2D (see :mod:`platefocus.models.deform`).
"""

from __future__ import annotations

import torch

from platefocus.models.deform import OFFSET_LR_SCALE, DeformableAttention2d, DeformConv2d
from platefocus.models.padding import PadToMultiple
from platefocus.models.registry import register
from platefocus.models.restormer import ChannelLayerNorm, RestormerResidual, level_settings


class DeformableTransformerBlock(torch.nn.Module):
    """``x + attention(norm(x))``, then ``x + feed_forward(norm(x))``."""

    def __init__(
        self, dim: int, heads: int, points: int, ffn_expansion: float, offset_lr_scale: float
    ) -> None:
        super().__init__()
        from monai.networks.blocks.cablock import FeedForward

        self.norm1 = ChannelLayerNorm(dim)
        self.attn = DeformableAttention2d(dim, heads, points, offset_lr_scale)
        self.norm2 = ChannelLayerNorm(dim)
        self.ffn = FeedForward(2, dim, ffn_expansion, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class DeformableConvBlock(torch.nn.Module):
    """``x + conv(gelu(deform_conv(norm(x))))``: deformable convolution in the bottleneck."""

    def __init__(self, dim: int, offset_lr_scale: float) -> None:
        super().__init__()
        self.norm = ChannelLayerNorm(dim)
        self.deform = DeformConv2d(dim, dim, 3, offset_lr_scale=offset_lr_scale)
        self.mix = torch.nn.Conv2d(dim, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mix(torch.nn.functional.gelu(self.deform(self.norm(x))))


def _down(dim: int) -> torch.nn.Module:
    """Halve the resolution, double the channels: 3x3 conv to dim/2, pixel-unshuffle."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(dim, dim // 2, 3, padding=1, bias=False), torch.nn.PixelUnshuffle(2)
    )


def _up(dim: int) -> torch.nn.Module:
    """Double the resolution, halve the channels: 3x3 conv to 2 dim, pixel-shuffle."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(dim, dim * 2, 3, padding=1, bias=False), torch.nn.PixelShuffle(2)
    )


class DeRestormerNet(torch.nn.Module):
    """The encoder-decoder without the residual and padding wrappers (see module doc)."""

    def __init__(
        self,
        in_channels: int,
        levels: int,
        width: int,
        blocks: tuple[int, ...],
        heads: tuple[int, ...],
        points: int,
        refinement_blocks: int,
        bottleneck_deform_blocks: int,
        ffn_expansion: float,
        offset_lr_scale: float,
    ) -> None:
        super().__init__()

        def stage(dim, n, h):
            return torch.nn.Sequential(
                *[
                    DeformableTransformerBlock(dim, h, points, ffn_expansion, offset_lr_scale)
                    for _ in range(n)
                ]
            )

        dims = [width * 2**i for i in range(levels)]
        self.embed = torch.nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        self.encoders = torch.nn.ModuleList(
            stage(dims[i], blocks[i], heads[i]) for i in range(levels - 1)
        )
        self.downs = torch.nn.ModuleList(_down(dims[i]) for i in range(levels - 1))
        self.latent = torch.nn.Sequential(
            stage(dims[-1], blocks[-1], heads[-1]),
            *[
                DeformableConvBlock(dims[-1], offset_lr_scale)
                for _ in range(bottleneck_deform_blocks)
            ],
        )
        self.ups = torch.nn.ModuleList(_up(dims[i + 1]) for i in reversed(range(levels - 1)))
        # Restormer keeps the concatenated 2x width at full resolution; reduces elsewhere.
        self.reduces = torch.nn.ModuleList(
            torch.nn.Identity() if i == 0 else torch.nn.Conv2d(2 * dims[i], dims[i], 1, bias=False)
            for i in reversed(range(levels - 1))
        )
        self.decoders = torch.nn.ModuleList(
            stage(2 * dims[i] if i == 0 else dims[i], blocks[i], heads[i])
            for i in reversed(range(levels - 1))
        )
        out_dim = 2 * width if levels > 1 else width
        self.refine = stage(out_dim, refinement_blocks, heads[0])
        self.output = torch.nn.Conv2d(out_dim, 1, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)
        skips = []
        for encoder, down in zip(self.encoders, self.downs, strict=True):
            x = encoder(x)
            skips.append(x)
            x = down(x)
        x = self.latent(x)
        for up, reduce, decoder in zip(self.ups, self.reduces, self.decoders, strict=True):
            x = reduce(torch.cat((up(x), skips.pop()), dim=1))
            x = decoder(x)
        return self.output(self.refine(x))


@register("derestormer")
def build_derestormer(
    spatial_dims: int = 2,
    in_channels: int = 1,
    levels: int = 3,
    width: int = 16,
    blocks: tuple[int, ...] | None = None,
    heads: tuple[int, ...] | None = None,
    points: int = 8,
    refinement_blocks: int = 1,
    bottleneck_deform_blocks: int = 1,
    ffn_expansion: float = 2.0,
    offset_lr_scale: float = OFFSET_LR_SCALE,
) -> torch.nn.Module:
    """A DeRestormer with ``levels`` encoder levels (1 to 4; the last is the bottleneck).

    ``width`` channels at full resolution, doubled per level; ``blocks`` and ``heads`` per
    level (default 1 block, heads ``1, 2, 4, 8``); ``points`` sampling positions per head
    and pixel; ``bottleneck_deform_blocks`` deformable-convolution blocks in the
    bottleneck; ``offset_lr_scale`` the fraction of the learning rate its offset
    predictors train at (see :mod:`platefocus.models.deform`). 2D only.
    """
    if spatial_dims != 2:
        raise ValueError("derestormer is 2D only (its deformable operators are 2D)")
    blocks, heads = level_settings(levels, blocks, heads)
    net = DeRestormerNet(
        in_channels,
        levels,
        width,
        blocks,
        heads,
        points,
        refinement_blocks,
        bottleneck_deform_blocks,
        ffn_expansion,
        offset_lr_scale,
    )
    return RestormerResidual(PadToMultiple(net, 2 ** (levels - 1)), in_channels // 2)
