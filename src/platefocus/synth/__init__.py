"""Physically based synthetic plates in the BBBC006 file layout."""

from platefocus.synth.plate import PlateSpec, generate_plate, preset

__all__ = ["PlateSpec", "generate_plate", "preset"]
