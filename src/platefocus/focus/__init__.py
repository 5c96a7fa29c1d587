"""Focus: metrics of every plane (whole field and tiles), best planes with QC, and the
tiles kept as training targets."""

from platefocus.focus.bestplane import FLAGS, BestPlaneConfig, best_planes, compare_to_truth
from platefocus.focus.fieldmap import field_focus_map
from platefocus.focus.metrics import METRICS, Region, gradient_energy, score_stack, tile_grid
from platefocus.focus.plate import score_plate, select_plate_targets
from platefocus.focus.targets import TargetConfig, object_focus_curves, select_field_targets

__all__ = [
    "FLAGS",
    "METRICS",
    "BestPlaneConfig",
    "Region",
    "TargetConfig",
    "best_planes",
    "compare_to_truth",
    "field_focus_map",
    "gradient_energy",
    "object_focus_curves",
    "score_plate",
    "score_stack",
    "select_field_targets",
    "select_plate_targets",
    "tile_grid",
]
