"""Focus: metrics of every plane (whole field and tiles), best planes with QC, and the
tiles kept as training targets."""

import lazy_loader

# Submodules load on first use (SPEC 1, as scikit-image does): importing the package
# stays cheap, so parsing the workflow imports neither torch nor the numerics.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "bestplane": ["BestPlaneConfig", "FLAGS", "best_planes", "compare_to_truth"],
        "fieldmap": ["field_focus_map"],
        "metrics": ["METRICS", "Region", "gradient_energy", "score_stack", "tile_grid"],
        "plate": ["plate_best_planes", "score_plate", "select_plate_targets"],
        "targets": [
            "TargetConfig",
            "object_focus_curves",
            "select_field_targets",
            "stack_focus_curves",
        ],
    },
)
