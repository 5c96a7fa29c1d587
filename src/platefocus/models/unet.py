"""U-Net baseline (Ronneberger et al. 2015): MONAI's BasicUNet with the input added back."""

from __future__ import annotations

import torch

from platefocus.models.padding import PadToMultiple
from platefocus.models.registry import register
from platefocus.models.restormer import RestormerResidual


@register("unet")
def build_unet(
    spatial_dims: int = 2,
    in_channels: int = 1,
    features: tuple[int, ...] = (16, 32, 64, 128, 128, 16),
    residual: bool = True,
) -> torch.nn.Module:
    """MONAI ``BasicUNet``: four down-sampling levels, skip connections at each.

    ``features`` are the six channel counts of BasicUNet; ``residual`` adds the (centre)
    input channel to the output, as for Restormer.
    """
    from monai.networks.nets import BasicUNet

    net = BasicUNet(
        spatial_dims=spatial_dims, in_channels=in_channels, out_channels=1, features=tuple(features)
    )
    padded = PadToMultiple(net, 16)
    return RestormerResidual(padded, in_channels // 2) if residual else padded
