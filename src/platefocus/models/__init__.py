"""Restoration networks behind one registry.

Adding an architecture is one new file in this package that defines a builder decorated
with ``@register("name")``, plus its import line in :func:`__getattr__` below.
``platefocus.models.catalog`` lists the architectures and their arguments without torch,
so the registry (and torch) is imported only when a network is built.
"""

from __future__ import annotations

__all__ = ["MODELS", "build_model", "register"]


def __getattr__(name: str):
    """Import the registry, and every architecture module (each registers itself), on
    first use of ``MODELS``, ``build_model`` or ``register``."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from platefocus.models import (  # noqa: F401
        dcn_lka,
        ddnm,
        derestormer,
        refocus,
        registry,
        restormer,
        unet,
    )

    return getattr(registry, name)
