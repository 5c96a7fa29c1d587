"""Optimiser parameter groups (parts of a network that train at their own learning rate)
and the learning-rate schedule."""

from __future__ import annotations

import math

import torch


def parameter_groups(model: torch.nn.Module, lr: float) -> list[dict]:
    """The model's parameters as optimiser groups: those of a module with an ``lr_scale``
    attribute (offset predictors, :mod:`platefocus.models.deform`) train at ``lr_scale * lr``,
    the rest at ``lr``. The warm-up/cosine schedule scales every group alike."""
    scaled: dict[float, list[torch.nn.Parameter]] = {}
    seen: set[int] = set()
    for module in model.modules():
        scale = getattr(module, "lr_scale", None)
        if scale is None or scale == 1.0:
            continue
        params = [p for p in module.parameters() if id(p) not in seen]
        seen.update(id(p) for p in params)
        scaled.setdefault(float(scale), []).extend(params)
    rest = [p for p in model.parameters() if id(p) not in seen]
    return [{"params": rest, "lr": lr}] + [
        {"params": params, "lr": lr * scale} for scale, params in sorted(scaled.items())
    ]


def lr_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """Linear warm-up to 1, then cosine decay to 0."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
