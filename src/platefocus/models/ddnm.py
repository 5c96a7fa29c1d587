"""DDNM: zero-shot restoration with a diffusion prior and the defocus operator.

Wang, Yu and Zhang (2023), *Zero-shot image restoration using denoising diffusion
null-space model*. A denoising-diffusion prior is trained on in-focus tiles only (the
targets of the pair store; the defocused inputs are never seen), and a plane ``dz`` from
focus is restored by DDIM sampling in which every step's estimate of the clean image,
``x0``, is replaced by its range-null decomposition with the defocus operator ``A`` of
that ``dz`` (:mod:`platefocus.consistency.projection`)::

    x0' = x0 + A^+ (y - A x0)

so the observation fixes what ``A`` passes and the prior fills what it removes. DDNM+'s
noise-aware relaxation is the Tikhonov pseudo-inverse ``conj(H) / (|H|^2 + lam)``
(``regularisation`` = lam), which corrects only where the observation is above its noise
and the operator's error. Sampling may start part-way (``start``: a fraction of the
schedule, the observation noised to that level, as SDEdit and DDNM's own acceleration do)
and uses ``sampling_steps`` DDIM steps (deterministic, eta = 0; the starting noise comes
from a seeded generator, so restoring the same tile twice gives the same result).

The prior is MONAI's ``DiffusionModelUNet`` under MONAI's DDPM schedule (linear betas,
1000 training steps). The operator is one kernel per plane offset, estimated from the
training plate's Z-stack (``results/<plate>/models/operator.npz``), loaded before
training (:meth:`DDNMRestorer.load_operator`) and kept in the weights; an offset without
a kernel uses the nearest offset's on the same side of focus.

Intensities: tiles arrive normalised by their own plane's percentiles (about 0..1) and
are mapped to the prior's -1..1; restoring in the observed plane's frame keeps ``A x = y``
exact for a unit-sum kernel (the map is affine). Shapes (B, 1, T, T).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from platefocus.models.registry import register


def _transfer(kernels: torch.Tensor, side: int) -> torch.Tensor:
    """``rfft2`` transfer functions (B, side, side // 2 + 1) of centred odd (B, K, K)
    kernels on a ``side`` x ``side`` canvas (:func:`platefocus.consistency.projection.
    transfer_function`, batched)."""
    k = kernels.shape[-1]
    canvas = kernels.new_zeros(kernels.shape[0], side, side)
    canvas[:, :k, :k] = kernels
    canvas = torch.roll(canvas, (-(k // 2), -(k // 2)), dims=(1, 2))
    return torch.fft.rfft2(canvas)


class DDNMRestorer(torch.nn.Module):
    """A diffusion prior (noise prediction) and DDNM sampling with the defocus operator.

    ``forward(x, dz)``: x (B, 1, T, T) normalised planes, dz (B,) plane offsets from focus
    (planes, signed) -> (B, 1, T, T) restored. ``training_loss(x, y)``: the prior's
    denoising loss on the targets ``y`` only.
    """

    takes_offset = True

    def __init__(
        self,
        width: int = 16,
        timesteps: int = 1000,
        sampling_steps: int = 10,
        start: float = 0.1,
        regularisation: float = 1.0,
        kernel_size: int = 31,
        max_offset: int = 16,
        seed: int = 0,
    ) -> None:
        super().__init__()
        from monai.networks.nets import DiffusionModelUNet
        from monai.networks.schedulers import DDPMScheduler

        if not 0 < start <= 1:
            raise ValueError(f"start must be in (0, 1], got {start}")
        if sampling_steps < 1:
            raise ValueError(f"sampling_steps must be at least 1, got {sampling_steps}")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.prior = DiffusionModelUNet(
            spatial_dims=2,
            in_channels=1,
            out_channels=1,
            channels=(width, 2 * width, 2 * width),
            attention_levels=(False, False, False),
            num_res_blocks=1,
            norm_num_groups=min(8, width),
        )
        schedule = DDPMScheduler(num_train_timesteps=timesteps)
        self.register_buffer("alphas_cumprod", schedule.alphas_cumprod.float().clone())
        n = 2 * max_offset + 1
        self.register_buffer("kernels", torch.zeros(n, kernel_size, kernel_size))
        self.register_buffer("has_kernel", torch.zeros(n, dtype=torch.bool))
        self.timesteps, self.sampling_steps, self.start = timesteps, sampling_steps, start
        self.regularisation, self.max_offset, self.seed = regularisation, max_offset, seed

    # -- the operator ----------------------------------------------------------------
    def load_operator(self, path) -> None:
        """Kernels per offset from a defocus-operator file (``estimated`` set of
        :func:`platefocus.consistency.stack.save_kernels`); the in-focus plane (dz 0)
        gets the identity."""
        from platefocus.consistency.stack import load_kernels

        kernels = load_kernels(path, "estimated")
        size = self.kernels.shape[-1]
        self.kernels.zero_()
        self.has_kernel.zero_()
        for dz, kernel in kernels.items():
            if abs(dz) > self.max_offset:
                continue
            if kernel.shape != (size, size):
                raise ValueError(f"{path}: kernel dz={dz} is {kernel.shape}, not {size}^2")
            self.kernels[dz + self.max_offset] = torch.from_numpy(np.asarray(kernel, np.float32))
            self.has_kernel[dz + self.max_offset] = True
        self.kernels[self.max_offset] = 0
        self.kernels[self.max_offset, size // 2, size // 2] = 1
        self.has_kernel[self.max_offset] = True

    def kernel_for(self, dz: int) -> torch.Tensor:
        """The kernel of offset ``dz``: its own, else the nearest on the same side
        (:func:`platefocus.consistency.stack.nearest_kernel`)."""
        from platefocus.consistency.stack import nearest_kernel

        known = {int(i) - self.max_offset: i for i in torch.nonzero(self.has_kernel).flatten()}
        if len(known) <= 1:
            raise RuntimeError("DDNM has no defocus operator: load_operator() first")
        dz = max(-self.max_offset, min(self.max_offset, int(dz)))
        return self.kernels[nearest_kernel(known, dz)]

    # -- training --------------------------------------------------------------------
    def training_loss(
        self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """MSE between the prior's noise prediction and the noise added to the target
        ``y`` (normalised, (B, 1, T, T)) at a random step; ``x`` is not used."""
        clean = 2 * y[:, :1] - 1
        t = torch.randint(0, self.timesteps, (len(y),), device=y.device, generator=generator)
        noise = torch.randn(clean.shape, device=y.device, generator=generator)
        a = self.alphas_cumprod[t].view(-1, 1, 1, 1)
        noisy = a.sqrt() * clean + (1 - a).sqrt() * noise
        return F.mse_loss(self.prior(noisy, t).float(), noise)

    # -- restoration -----------------------------------------------------------------
    def schedule(self) -> list[int]:
        """The DDIM steps, from ``start`` x the schedule down to 0 (descending)."""
        top = max(0, round(self.start * self.timesteps) - 1)
        steps = np.linspace(top, 0, self.sampling_steps)
        return sorted({round(float(s)) for s in steps}, reverse=True)

    def forward(self, x: torch.Tensor, dz: torch.Tensor | None = None) -> torch.Tensor:
        if dz is None:
            raise ValueError("DDNM restores a plane with the operator of its dz: pass dz")
        y = 2 * x[:, :1].float() - 1
        pad = self.kernels.shape[-1] // 2
        side = y.shape[-1] + 2 * pad
        if y.shape[-1] != y.shape[-2] or pad >= y.shape[-1]:
            raise ValueError(f"DDNM needs square tiles wider than {pad} px, got {y.shape}")
        h = _transfer(torch.stack([self.kernel_for(d) for d in dz.tolist()]), side)
        h = h.unsqueeze(1)
        inverse = torch.conj(h) / (h.abs() ** 2 + self.regularisation)
        y_hat = torch.fft.rfft2(F.pad(y, (pad,) * 4, mode="reflect"))

        def consistent(estimate: torch.Tensor) -> torch.Tensor:
            padded = F.pad(estimate, (pad,) * 4, mode="reflect")
            f_hat = torch.fft.rfft2(padded)
            out = torch.fft.irfft2(f_hat + inverse * (y_hat - h * f_hat), s=(side, side))
            return out[..., pad:-pad, pad:-pad]

        steps = self.schedule()
        generator = torch.Generator(device=y.device).manual_seed(self.seed)
        noise = torch.randn(y.shape, device=y.device, generator=generator)
        a = self.alphas_cumprod[steps[0]]
        sample = a.sqrt() * y + (1 - a).sqrt() * noise
        estimate = y
        for i, t in enumerate(steps):
            a = self.alphas_cumprod[t]
            a_next = self.alphas_cumprod[steps[i + 1]] if i + 1 < len(steps) else None
            t_batch = torch.full((len(y),), t, device=y.device, dtype=torch.long)
            eps = self.prior(sample, t_batch).float()
            estimate = ((sample - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-3, 3)
            estimate = consistent(estimate)
            if a_next is not None:
                sample = a_next.sqrt() * estimate + (1 - a_next).sqrt() * eps
        return (estimate + 1) / 2

    def extra_repr(self) -> str:
        return (
            f"sampling_steps={self.sampling_steps}, start={self.start}, "
            f"regularisation={self.regularisation}, max_offset={self.max_offset}"
        )


@register("ddnm")
def build_ddnm(
    spatial_dims: int = 2,
    in_channels: int = 1,
    width: int = 16,
    timesteps: int = 1000,
    sampling_steps: int = 10,
    start: float = 0.1,
    regularisation: float = 1.0,
    kernel_size: int = 31,
    max_offset: int = 16,
    seed: int = 0,
) -> torch.nn.Module:
    """DDNM with a small diffusion prior (MONAI ``DiffusionModelUNet``, channels
    ``width, 2 width, 2 width``, one residual block per level, no attention).

    ``sampling_steps``: DDIM steps per restoration (cost grows linearly); ``start``:
    fraction of the noise schedule sampling starts from (0.1: on the demo plate's held-out
    pairs 29.8 / 24.9 / 20.7 dB at |dz| = 2, 4, 6, against 28.9 / 23.4 / 19.5 at 0.5 and
    19.7 / 16.5 / 14.3 from pure noise, 1.0; ``benchmarks/study_ddnm.py``);
    ``regularisation``: DDNM+'s lam (the consistency section's
    ``projection_regularisation``); ``kernel_size``: the operator's
    (``consistency.kernel_size``); ``max_offset``: the largest plane offset with a kernel
    slot. 2D, one input channel.
    """
    if spatial_dims != 2 or in_channels != 1:
        raise ValueError("ddnm restores single 2D planes (spatial_dims 2, in_channels 1)")
    if not math.isfinite(regularisation) or regularisation < 0:
        raise ValueError(f"regularisation must be >= 0, got {regularisation}")
    return DDNMRestorer(
        width, timesteps, sampling_steps, start, regularisation, kernel_size, max_offset, seed
    )
