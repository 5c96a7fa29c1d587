"""Training pairs (defocused plane, best plane) split by well, and the one intensity
normalisation that training, restoration and evaluation share."""

import lazy_loader

# Submodules load on first use (SPEC 1, as scikit-image does): importing the package
# stays cheap, so parsing the workflow imports neither torch nor the numerics.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "normalise": [
            "DEFAULT_PERCENTILES",
            "apply_range",
            "intensity_span",
            "normalise",
            "percentile_range",
            "undo_range",
        ],
        "pairs": ["DatasetConfig", "build_dataset", "field_pairs", "split_wells"],
    },
)
