"""Physics consistency of restoration: the defocus operator (estimated from the stack and
from the optics), DDNM's data-consistency projection, and hallucination maps and flags."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "operator": [
            "estimate_kernel",
            "kernel_width_px",
            "physical_kernel",
            "radial_profile",
        ],
        "projection": ["blur", "noise_regularisation", "project", "pseudo_inverse"],
        "hallucination": [
            "consistency_score",
            "noise_sigma",
            "object_support",
            "residual_map",
        ],
    },
)
