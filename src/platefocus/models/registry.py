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


def takes_offset(model: torch.nn.Module) -> bool:
    """Whether the network restores a plane with its offset from focus (``model(x, dz)``,
    as DDNM does with the operator of that offset); compiled models are looked through."""
    return bool(getattr(getattr(model, "_orig_mod", model), "takes_offset", False))


def apply_model(
    model: torch.nn.Module, x: torch.Tensor, dz: torch.Tensor | None = None
) -> torch.Tensor:
    """``model(x)``, or ``model(x, dz)`` for a network that takes plane offsets
    (:func:`takes_offset`; ``dz`` (B,) planes, signed; None: every tile in focus)."""
    if not takes_offset(model):
        return model(x)
    if dz is None:
        dz = torch.zeros(len(x), dtype=torch.long)
    return model(x, torch.as_tensor(dz).reshape(-1))
