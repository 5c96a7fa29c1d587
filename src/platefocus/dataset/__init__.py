"""Training pairs (defocused plane, best plane) split by well, and the one intensity
normalisation that training, restoration and evaluation share."""

from platefocus.dataset.normalise import (
    DEFAULT_PERCENTILES,
    apply_range,
    intensity_span,
    normalise,
    percentile_range,
    undo_range,
)
from platefocus.dataset.pairs import DatasetConfig, build_dataset, field_pairs, split_wells

__all__ = [
    "DEFAULT_PERCENTILES",
    "DatasetConfig",
    "apply_range",
    "build_dataset",
    "field_pairs",
    "intensity_span",
    "normalise",
    "percentile_range",
    "split_wells",
    "undo_range",
]
