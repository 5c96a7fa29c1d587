"""Physically based synthetic plates in the BBBC006 file layout."""

from platefocus.synth.plate import generate_plate
from platefocus.synth.spec import PRESETS, PlateSpec, preset

__all__ = ["PRESETS", "PlateSpec", "generate_plate", "preset"]
