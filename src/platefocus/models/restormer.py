"""Restormer (Zamir et al., CVPR 2022) from MONAI, completed as the paper describes.

MONAI's ``monai.networks.nets.restormer.Restormer`` provides the multi-Dconv head
transposed attention, the gated-Dconv feed-forward network and pixel-unshuffle/shuffle
sampling in 2D and 3D. Two deviations from the paper are handled here:

- MONAI does not add the input image to the output; the paper does (the network learns a
  residual). ``RestormerResidual`` adds it back (the centre input channel when
  neighbouring planes are given as extra channels).
- MONAI normalises with InstanceNorm, whose statistics depend on the whole tile, so the
  same pixel can come out differently in two overlapping tiles; the paper uses a per-pixel
  LayerNorm over channels. ``norm="layer"`` swaps every InstanceNorm for that LayerNorm
  (seam errors of both are measured by the restore stage).
"""

from __future__ import annotations

import torch

from platefocus.models.padding import PadToMultiple
from platefocus.models.registry import register


class ChannelLayerNorm(torch.nn.Module):
    """LayerNorm over the channel axis at every pixel (the paper's "WithBias" norm)."""

    def __init__(self, channels: int, affine: bool = True) -> None:
        super().__init__()
        self.norm = torch.nn.LayerNorm(channels, elementwise_affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.movedim(1, -1)).movedim(-1, 1)


class RestormerResidual(torch.nn.Module):
    """``net(x) + x[:, centre]``: the restoration is learnt as a residual.

    The last convolution of ``net`` starts at zero, so an untrained network is exactly the
    identity and training can only move it away from "no restoration" where that helps.
    """

    def __init__(self, net: torch.nn.Module, centre_channel: int) -> None:
        super().__init__()
        self.net = net
        self.centre = centre_channel
        convs = [m for m in net.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)]
        with torch.no_grad():
            convs[-1].weight.zero_()
            if convs[-1].bias is not None:
                convs[-1].bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x) + x[:, self.centre : self.centre + 1]


def _single_level(spatial_dims, in_channels, width, blocks, heads, refinement, ffn):
    """One level, no down-sampling: MONAI's Restormer needs two, so its blocks are
    assembled here in the same order (embedding, transformer blocks, refinement, output)."""
    from monai.networks.blocks import Convolution
    from monai.networks.nets.restormer import MDTATransformerBlock, OverlapPatchEmbed

    def block():
        return MDTATransformerBlock(
            spatial_dims=spatial_dims,
            dim=width,
            num_heads=heads,
            ffn_expansion_factor=ffn,
            bias=False,
            layer_norm_use_bias=True,
        )

    return torch.nn.Sequential(
        OverlapPatchEmbed(spatial_dims, in_channels, width),
        *[block() for _ in range(blocks + refinement)],
        Convolution(
            spatial_dims=spatial_dims,
            in_channels=width,
            out_channels=1,
            kernel_size=3,
            bias=False,
            conv_only=True,
        ),
    )


def level_settings(
    levels: int, blocks: tuple[int, ...] | None, heads: tuple[int, ...] | None
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Checked blocks and heads per level (defaults: 1 block, heads 1, 2, 4, 8)."""
    if not 1 <= levels <= 4:
        raise ValueError(f"levels must be 1 to 4, got {levels}")
    blocks = tuple(blocks) if blocks else (1,) * levels
    heads = tuple(heads) if heads else tuple(2**i for i in range(levels))
    if len(blocks) != levels or len(heads) != levels:
        raise ValueError(f"blocks and heads need {levels} entries, got {blocks} and {heads}")
    return blocks, heads


@register("restormer")
def build_restormer(
    spatial_dims: int = 2,
    in_channels: int = 1,
    levels: int = 3,
    width: int = 16,
    blocks: tuple[int, ...] | None = None,
    heads: tuple[int, ...] | None = None,
    refinement_blocks: int = 1,
    ffn_expansion: float = 2.0,
    norm: str = "instance",
) -> torch.nn.Module:
    """A Restormer with ``levels`` encoder levels (1 to 4; the last is the latent level).

    Parameters
    ----------
    levels : int
        Encoder levels including the latent one; the input is down-sampled
        ``levels - 1`` times by pixel-unshuffle.
    width : int
        Channels at full resolution; doubled at each level.
    blocks, heads : tuple of int, optional
        Transformer blocks and attention heads per level (default 1 block, heads
        ``1, 2, 4, 8``).
    norm : str
        ``"instance"`` (MONAI) or ``"layer"`` (per-pixel LayerNorm, as in the paper).
    """
    from monai.networks.nets.restormer import Restormer

    if norm not in ("instance", "layer"):
        raise ValueError(f"norm must be 'instance' or 'layer', got {norm!r}")
    blocks, heads = level_settings(levels, blocks, heads)
    if levels == 1:
        net = _single_level(
            spatial_dims, in_channels, width, blocks[0], heads[0], refinement_blocks, ffn_expansion
        )
    else:
        net = Restormer(
            spatial_dims=spatial_dims,
            in_channels=in_channels,
            out_channels=1,
            dim=width,
            num_blocks=blocks,
            heads=heads,
            num_refinement_blocks=refinement_blocks,
            ffn_expansion_factor=ffn_expansion,
        )
    if norm == "layer":
        for module in net.modules():
            for name in ("norm1", "norm2"):
                old = getattr(module, name, None)
                if isinstance(old, torch.nn.modules.instancenorm._InstanceNorm):
                    setattr(module, name, ChannelLayerNorm(old.num_features, old.affine))
    factor = 2 ** (levels - 1)
    # MONAI asserts every side is larger than 2**(levels - 1).
    padded = PadToMultiple(net, factor, minimum=2 * factor)
    return RestormerResidual(padded, centre_channel=in_channels // 2)
