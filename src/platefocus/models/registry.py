"""Name -> builder registry for restoration networks."""

from __future__ import annotations

from collections.abc import Callable

import torch

MODELS: dict[str, Callable[..., torch.nn.Module]] = {}


def register(name: str) -> Callable:
    """Decorator registering a builder ``(spatial_dims, in_channels, **kwargs) -> Module``."""

    def wrap(builder: Callable[..., torch.nn.Module]) -> Callable[..., torch.nn.Module]:
        if name in MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        MODELS[name] = builder
        return builder

    return wrap


def build_model(
    name: str, spatial_dims: int = 2, in_channels: int = 1, **kwargs
) -> torch.nn.Module:
    """Build a registered network; outputs one channel of the input's spatial size.

    Raises
    ------
    ValueError
        Unknown name, or keyword arguments the architecture does not take.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; registered: {sorted(MODELS)}")
    if spatial_dims not in (2, 3):
        raise ValueError(f"spatial_dims must be 2 or 3, got {spatial_dims}")
    try:
        return MODELS[name](spatial_dims=spatial_dims, in_channels=in_channels, **kwargs)
    except TypeError as err:
        raise ValueError(f"model {name!r}: {err}") from None
