"""Pad inputs to a multiple of the network's down-sampling factor and crop back."""

from __future__ import annotations

import torch
import torch.nn.functional as F


class PadToMultiple(torch.nn.Module):
    """Run ``net`` on an input reflect-padded up to a multiple of ``multiple``, then crop.

    Padding goes on the far side of each spatial axis, so output pixel ``i`` stays
    aligned with input pixel ``i``. Inputs smaller than the padding reflect use
    replicate padding instead.
    """

    def __init__(self, net: torch.nn.Module, multiple: int, minimum: int = 0) -> None:
        super().__init__()
        self.net = net
        self.multiple = multiple
        self.minimum = minimum

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sizes = x.shape[2:]
        targets = [max(self.minimum, -(-s // self.multiple) * self.multiple) for s in sizes]
        pad = []
        for s, t in zip(reversed(sizes), reversed(targets), strict=True):
            pad += [0, t - s]
        if any(pad):
            mode = (
                "reflect"
                if all(p < s for p, s in zip(pad[1::2], reversed(sizes), strict=True))
                else "replicate"
            )
            x = F.pad(x, pad, mode=mode)
        y = self.net(x)
        return y[(..., *(slice(0, s) for s in sizes))]
