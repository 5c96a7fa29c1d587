"""Reading plates from disk and writing them as OME-Zarr (no numerical code, no torch).

``discover`` finds planes by file name, ``ingest`` checks and writes them, ``omezarr`` is
the only reader and writer of OME-Zarr metadata, ``fields`` opens field images lazily,
``pairs`` owns the training-pair store, ``partial``/``atomic`` make outputs appear only
when complete, ``blocks`` cuts a plate into jobs.
"""

__all__ = [
    "atomic",
    "blocks",
    "discover",
    "fields",
    "ingest",
    "inventory",
    "layouts",
    "omezarr",
    "pairs",
    "partial",
    "readers",
    "stack_plate",
]
