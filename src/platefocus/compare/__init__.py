"""Comparisons: segmentation before/after restoration (``segmentation``) and trained
architectures side by side (``models``, needs torch: imported on use)."""

from platefocus.compare.segmentation import (
    FieldComparison,
    compare_field,
    compare_plate,
    example_fields,
    image_quality,
    summarise,
)

__all__ = [
    "FieldComparison",
    "compare_field",
    "compare_plate",
    "example_fields",
    "image_quality",
    "summarise",
]
