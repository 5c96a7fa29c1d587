"""Comparisons: segmentation before/after restoration (``segmentation``) and trained
architectures side by side (``models``, needs torch: imported on use)."""

import lazy_loader

# Submodules load on first use (SPEC 1, as scikit-image does): importing the package
# stays cheap, so parsing the workflow imports neither torch nor the numerics.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "distance": ["SinglePlaneDistance"],
        "examples": ["example_fields", "restored_examples"],
        "segmentation": [
            "FieldComparison",
            "compare_field",
            "compare_plate",
            "image_quality",
            "summarise",
        ],
    },
)
