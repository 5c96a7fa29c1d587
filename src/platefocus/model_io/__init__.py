"""Model files: the one reader and writer of checkpoints and bioimage.io packages.

:func:`load_model` gives a network and its :class:`ModelInfo` (typed, frozen metadata),
reading each file once per process; training writes through :func:`save_checkpoint` with
the layout of :func:`checkpoint_state`. Restoration and comparison import this package,
never :mod:`platefocus.train`.
"""

import lazy_loader

# Submodules load on first use: reading metadata imports no torch until weights are read.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "checkpoint": [
            "choose_device",
            "load_model",
            "read_model_info",
            "read_resume_state",
            "save_checkpoint",
        ],
        "metadata": ["ModelInfo", "ResumeState", "checkpoint_state", "plain", "resume_state"],
        "package": ["is_package", "read_package"],
    },
)
