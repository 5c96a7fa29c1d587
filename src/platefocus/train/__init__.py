"""Training: the loop, losses, evaluation and export (model files: :mod:`platefocus.model_io`)."""

import lazy_loader

# Submodules load on first use (SPEC 1, as scikit-image does): importing the package
# stays cheap, so parsing the workflow imports neither torch nor the numerics.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "evaluate": ["evaluate_split", "summarise_by_dz"],
        "loop": ["TrainConfig", "train"],
        "optim": ["lr_factor", "parameter_groups"],
        "losses": ["LOSSES", "WeightedLoss"],
        "export": ["export_package"],
    },
)
