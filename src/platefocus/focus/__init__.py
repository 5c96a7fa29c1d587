"""Focus: metrics of every plane (whole field and tiles), best planes with QC, and the
tiles kept as training targets."""

import lazy_loader

# Submodules load on first use (SPEC 1, as scikit-image does): importing the package
# stays cheap, so parsing the workflow imports neither torch nor the numerics.
__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "bestplane": ["BestPlaneConfig", "FLAGS", "best_planes", "compare_to_truth"],
        "fieldmap": ["field_focus_map"],
        "metrics": ["METRICS", "Region", "gradient_energy", "score_stack", "tile_grid"],
        "plate": ["score_plate", "select_plate_targets"],
        "targets": ["TargetConfig", "object_focus_curves", "select_field_targets"],
    },
)

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
