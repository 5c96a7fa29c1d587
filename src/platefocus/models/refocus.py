"""ReFocus-style U-Net: a ResNet encoder (ResNet-34 by default) with a U-Net decoder.

ReFocus restored defocused BBBC006 planes with a U-Net whose encoder is a ResNet-34,
trained with a feature (perceptual) loss. This is MONAI's ``FlexibleUNet`` with that
encoder, the input added back at the output as for the other networks. Its weights start
random: ImageNet weights would have to be downloaded, which platefocus never does at run
time (``pretrained=False``). The feature loss is :class:`platefocus.train.losses.FeatureLoss`.
"""

from __future__ import annotations

import torch

from platefocus.models.padding import PadToMultiple
from platefocus.models.registry import register
from platefocus.models.restormer import RestormerResidual

#: The encoder halves the plane five times.
DOWNSAMPLING = 32


@register("refocus_unet")
def build_refocus_unet(
    spatial_dims: int = 2,
    in_channels: int = 1,
    backbone: str = "resnet34",
    decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16),
    residual: bool = True,
) -> torch.nn.Module:
    """MONAI ``FlexibleUNet`` with a randomly initialised ResNet encoder.

    ``backbone``: ``resnet10`` ... ``resnet200`` (ResNet-34: 21 M encoder parameters);
    ``decoder_channels``: the five decoder widths, coarse to fine; ``residual`` adds the
    (centre) input channel to the output; the last convolution starts at zero, so the
    untrained network is the identity, like the others. Inputs of any size are padded to
    a multiple of 32 pixels (at least 64) and cropped back.
    """
    from monai.networks.nets import FlexibleUNet

    net = FlexibleUNet(
        in_channels=in_channels,
        out_channels=1,
        backbone=backbone,
        pretrained=False,  # no downloaded weights
        decoder_channels=tuple(decoder_channels),
        spatial_dims=spatial_dims,
    )
    head = net.segmentation_head[0]  # the last convolution: start as the identity
    torch.nn.init.zeros_(head.weight)
    torch.nn.init.zeros_(head.bias)
    # at least 64 px: BatchNorm needs more than one value per channel at the 1/32 level
    padded = PadToMultiple(net, DOWNSAMPLING, minimum=2 * DOWNSAMPLING)
    return RestormerResidual(padded, in_channels // 2) if residual else padded
