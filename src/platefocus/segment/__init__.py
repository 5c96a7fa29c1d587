"""Nuclei segmentation (CellProfiler's IdentifyPrimaryObjects) and one-to-one matching."""

from platefocus.segment.matching import MatchResult, iou_matrix, match_objects
from platefocus.segment.nuclei import SegmentationConfig, identify_primary_objects, object_centroids

__all__ = [
    "MatchResult",
    "SegmentationConfig",
    "identify_primary_objects",
    "iou_matrix",
    "match_objects",
    "object_centroids",
]
