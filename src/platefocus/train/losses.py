"""Losses: L1, MSE, SSIM and MS-SSIM (``pytorch_msssim``), feature losses (a frozen random
network's, or one trained on the plate's own in-focus targets), and weighted sums of them.

Images are in normalised units (the input plane's normalisation percentile maps to 0..1),
so SSIM uses ``data_range = 1``. SSIM-type losses favour structure (what segmentation
needs); MSE favours the signal (what intensity measurements need).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from platefocus.models.catalog import LOSS_TERMS as LOSSES


class WeightedLoss(torch.nn.Module):
    """``sum(weight * loss)`` over named terms; SSIM terms enter as ``1 - SSIM``.

    Parameters
    ----------
    weights : mapping of str to float
        Term name (``l1``, ``mse``, ``ssim``, ``ms_ssim``, ``feature``, ``feature_plate``)
        to weight; at least one positive weight. ``feature_plate``'s network is trained on
        the training targets by :meth:`fit` before the restoration network trains.
    """

    def __init__(self, weights: Mapping[str, float]) -> None:
        super().__init__()
        unknown = set(weights) - set(LOSSES)
        if unknown:
            raise ValueError(f"unknown loss term(s) {sorted(unknown)}; choose from {LOSSES}")
        self.weights = {k: float(v) for k, v in weights.items() if v}
        if not self.weights or min(self.weights.values()) < 0:
            raise ValueError(f"loss weights must be non-negative with one positive: {weights}")
        # a module attribute, so that it follows the loss to the training device
        self.features = FeatureLoss() if "feature" in self.weights else None
        self.plate_features = FeatureLoss() if "feature_plate" in self.weights else None

    def fit(self, targets: torch.Tensor) -> None:
        """Train the ``feature_plate`` network on in-focus targets (N, C, P, P); no-op
        without that term."""
        if self.plate_features is not None:
            self.plate_features.fit(targets)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        total = pred.new_zeros(())
        for name, weight in self.weights.items():
            if name == "feature":
                term = self.features(pred.float(), target.float())
            elif name == "feature_plate":
                term = self.plate_features(pred.float(), target.float())
            else:
                term = self.term(name, pred, target)
            total = total + weight * term
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


class FeatureLoss(torch.nn.Module):
    """Feature (perceptual) loss without downloaded weights: the mean absolute difference of
    the activations of a frozen, randomly initialised VGG-style network.

    ReFocus used the activations of an ImageNet-trained VGG; platefocus downloads no
    weights. Random convolutions still respond to edges and textures at several scales,
    which is what makes a perceptual loss punish blur more than a pixel loss does
    (tests/train/test_losses.py: zero for identical images, growing with blur). The
    network is seeded, so every run uses the same features.

    Three stages of two 3x3 convolutions + ReLU (``width``, 2x, 4x channels), 2x2 max
    pooling between stages; each stage's activations are compared, weighted equally.
    Inputs: (B, 1, Y, X) in normalised units; the centre channel of a multi-channel input.
    """

    def __init__(self, width: int = 16, stages: int = 3, seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        blocks, channels = [], 1
        for stage in range(stages):
            out = width * 2**stage
            layers = []
            for i in range(2):
                conv = torch.nn.Conv2d(channels if i == 0 else out, out, 3, padding=1)
                fan_in = conv.in_channels * 9
                with torch.no_grad():  # He initialisation, from the seeded generator
                    conv.weight.copy_(
                        torch.randn(conv.weight.shape, generator=generator) * (2 / fan_in) ** 0.5
                    )
                    conv.bias.zero_()
                layers += [conv, torch.nn.ReLU()]
            blocks.append(torch.nn.Sequential(*layers))
            channels = out
        self.blocks = torch.nn.ModuleList(blocks)
        self.seed = seed
        # each stage's difference is divided by its scale: 1 for the random network; after
        # fit(), the stage's mean absolute activation on the targets, so that training the
        # features does not also change the loss's weight against the other terms
        self.register_buffer("scales", torch.ones(stages))
        self.requires_grad_(False)
        self.eval()

    def fit(
        self, targets: torch.Tensor, steps: int = 200, batch_size: int = 16, noise: float = 0.05
    ) -> list[float]:
        """Train the network on the plate's own in-focus targets, then freeze it again.

        A denoising autoencoder: the network (the encoder) and a mirrored decoder
        (nearest-neighbour 2x upsampling, 3x3 convolutions) learn to reconstruct a target
        from a copy with Gaussian noise of ``noise`` (normalised units), ``steps`` Adam
        steps of ``batch_size`` targets, everything drawn from the seeded generator, so a
        rerun gives the same features. The decoder is discarded. Returns the loss per step.
        """
        generator = torch.Generator().manual_seed(self.seed + 1)
        widths = [block[0].out_channels for block in self.blocks]
        decoder = []
        for i in reversed(range(len(widths))):
            out = widths[i - 1] if i else 1
            layers = [torch.nn.Upsample(scale_factor=2)] if i else []
            layers.append(torch.nn.Conv2d(widths[i], out, 3, padding=1))
            decoder.append(torch.nn.Sequential(*layers, *([torch.nn.ReLU()] if i else [])))
        device = self.blocks[0][0].weight.device
        decoder = torch.nn.Sequential(*decoder).to(device)
        with torch.no_grad():
            for p in decoder.parameters():  # seeded, like the encoder
                p.copy_(torch.randn(p.shape, generator=generator).to(device) * 0.05)
        self.requires_grad_(True)
        self.train()
        optimiser = torch.optim.Adam([*self.parameters(), *decoder.parameters()], lr=1e-3)
        centre = targets.shape[1] // 2
        side = targets.shape[-1] - targets.shape[-1] % 2 ** (len(widths) - 1)
        losses = []
        for _ in range(steps):
            idx = torch.randint(len(targets), (batch_size,), generator=generator)
            clean = targets[idx, centre : centre + 1, :side, :side].float()
            noisy = (clean + noise * torch.randn(clean.shape, generator=generator)).to(device)
            clean = clean.to(device)
            codes = noisy
            for i, block in enumerate(self.blocks):
                if i:
                    codes = torch.nn.functional.max_pool2d(codes, 2)
                codes = block(codes)
            loss = torch.nn.functional.mse_loss(decoder(codes), clean)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        self.requires_grad_(False)
        self.eval()
        with torch.no_grad():
            sample = targets[:64, centre : centre + 1].float().to(device)
            for i, block in enumerate(self.blocks):
                if i:
                    sample = torch.nn.functional.max_pool2d(sample, 2)
                sample = block(sample)
                self.scales[i] = sample.abs().mean().clamp_min(1e-6)
        return losses

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if pred.shape[1] > 1:  # the centre plane
            c = pred.shape[1] // 2
            pred, target = pred[:, c : c + 1], target[:, c : c + 1]
        total = pred.new_zeros(())
        a, b = pred, target
        for i, block in enumerate(self.blocks):
            if i:
                a, b = torch.nn.functional.max_pool2d(a, 2), torch.nn.functional.max_pool2d(b, 2)
            a, b = block(a), block(b)
            total = total + torch.nn.functional.l1_loss(a, b) / self.scales[i]
        return total / len(self.blocks)
