"""Reading plates from disk and writing them as OME-Zarr (no numerical code, no torch)."""
