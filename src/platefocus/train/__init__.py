"""Training: the loop, checkpoints (written here, read by restore), losses, evaluation."""

import lazy_loader

# Submodules load on first use (SPEC 1, as scikit-image does): importing the package
# stays cheap, so parsing the workflow imports neither torch nor the numerics.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "checkpoint": [
            "checkpoint_percentiles",
            "choose_device",
            "load_checkpoint",
            "read_checkpoint",
            "save_checkpoint",
        ],
        "evaluate": ["evaluate_split", "summarise_by_dz"],
        "loop": ["TrainConfig", "train"],
        "optim": ["lr_factor", "parameter_groups"],
        "losses": ["LOSSES", "WeightedLoss"],
        "export": ["export_package"],
        "package": ["is_package", "read_package"],
    },
)
