"""Physically based synthetic plates in the BBBC006 file layout."""

import lazy_loader

# Submodules load on first use (SPEC 1, as scikit-image does): importing the package
# stays cheap, so parsing the workflow imports neither torch nor the numerics.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "plate": ["generate_plate"],
        "spec": ["PRESETS", "PlateSpec", "preset"],
    },
)
