"""Restoration networks behind one registry.

Adding an architecture is one new file in this package that defines a builder decorated
with ``@register("name")``, plus its import line below.
"""

# Each architecture module registers itself on import.
from platefocus.models import dcn_lka, derestormer, restormer, unet  # noqa: F401
from platefocus.models.registry import MODELS, build_model, register

__all__ = ["MODELS", "build_model", "register"]
