"""Restoration: tiles cut, batched through a model and blended back; whole plates from
OME-Zarr to OME-Zarr, resumable, field by field."""

from platefocus.restore.inference import RestoreConfig, restore_planes, run_batches
from platefocus.restore.planes import PlaneSelection
from platefocus.restore.plate import finalise_plate, restore_fields, restore_plate
from platefocus.restore.tiling import blend_tiles, cut_tiles, pad_plane, plan_tiles

__all__ = [
    "PlaneSelection",
    "RestoreConfig",
    "blend_tiles",
    "cut_tiles",
    "finalise_plate",
    "pad_plane",
    "plan_tiles",
    "restore_fields",
    "restore_planes",
    "restore_plate",
    "run_batches",
]
