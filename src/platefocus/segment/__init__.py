"""Nuclei segmentation (CellProfiler's IdentifyPrimaryObjects, or a Cellpose model) and
one-to-one matching."""

import lazy_loader

# Submodules load on first use (SPEC 1, as scikit-image does): importing the package
# stays cheap, so parsing the workflow imports neither torch nor the numerics.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "matching": ["MatchResult", "iou_matrix", "match_objects"],
        "nuclei": ["SegmentationConfig", "identify_primary_objects", "object_centroids"],
        "planes": ["segment_planes"],
    },
)
