"""Restoration: tiles cut, batched through a model and blended back; whole plates from
OME-Zarr to OME-Zarr, resumable, field by field."""

import lazy_loader

# Submodules load on first use (SPEC 1, as scikit-image does): importing the package
# stays cheap, so parsing the workflow imports neither torch nor the numerics.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "inference": ["restore_planes", "run_batches"],
        "settings": ["RestoreConfig"],
        "planes": ["PlaneSelection"],
        "plate": ["finalise_plate", "restore_fields", "restore_plate"],
        "tiling": ["blend_tiles", "cut_tiles", "pad_plane", "plan_tiles"],
    },
)
