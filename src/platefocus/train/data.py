"""The training pairs during training: where they live, how each batch is augmented, and
the random state a resume restores.

On a GPU the pairs go to the device once when they fit (:func:`place_pairs`), so that a
step neither copies from the host nor waits for it: indexing, augmentation and the loss
all run there, and losses are read back once per epoch. On a CPU nothing changes, and
seeded runs stay deterministic.
"""

from __future__ import annotations

import logging
import random

import numpy as np
import torch

log = logging.getLogger(__name__)

#: Share of the device's free memory that the training pairs may take on a GPU.
PAIRS_MEMORY_SHARE = 0.25


def place_pairs(
    x: torch.Tensor, y: torch.Tensor, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)`` (pairs, C, Y, X) on ``device`` when it is a GPU with room for them
    (``PAIRS_MEMORY_SHARE`` of its free memory), else where they are (the host); each
    step then copies only its batch."""
    if device.type != "cuda":
        return x, y
    need = x.element_size() * x.numel() + y.element_size() * y.numel()
    free, _ = torch.cuda.mem_get_info(device)
    if need > PAIRS_MEMORY_SHARE * free:
        log.info(
            "training pairs (%.1f GiB) stay on the host: more than %.0f%% of the GPU's free memory",
            need / 2**30,
            100 * PAIRS_MEMORY_SHARE,
        )
        return x, y
    return x.to(device), y.to(device)


def augment_batch(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator, jitter: float):
    """The same random flip, 90-degree rotation and intensity scale for input and target
    (``(B, C, Y, X)`` on any device; ``gen`` is a CPU generator, so the draws, and seeded
    runs, do not depend on the device)."""
    k = int(torch.randint(0, 4, (1,), generator=gen))
    flip = bool(torch.randint(0, 2, (1,), generator=gen))
    dims = (-2, -1)
    x, y = torch.rot90(x, k, dims), torch.rot90(y, k, dims)
    if flip:
        x, y = torch.flip(x, (-1,)), torch.flip(y, (-1,))
    if jitter > 0:
        scale = 1 + jitter * (2 * torch.rand((x.shape[0], 1, 1, 1), generator=gen) - 1)
        scale = scale.to(x.device, non_blocking=True)
        x, y = x * scale, y * scale
    return x, y


def rng_state(gen: torch.Generator) -> dict:
    """Every random generator a run draws from (saved in ``last.pt``)."""
    # Global NumPy/Python generators are saved too: libraries (MONAI) may draw from them.
    return {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),  # noqa: NPY002
        "python": random.getstate(),
        "loader": gen.get_state(),
    }


def set_rng_state(state: dict, gen: torch.Generator) -> None:
    """Restore what :func:`rng_state` saved."""
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    random.setstate(state["python"])
    gen.set_state(state["loader"])
