"""Lazy access to the field images of an ingested plate, as Dask arrays."""

from __future__ import annotations

import os
from dataclasses import dataclass

import dask.array as da
import numpy as np
import pandas as pd

from platefocus.io.omezarr import field_path, open_image, read_image_axes, read_image_channel


@dataclass(frozen=True)
class FieldRef:
    """One field of a plate: where it is, and the channel and plane ids of its axes."""

    plate: str
    well: str
    row: str
    column: int
    site: int
    field: int
    channels: tuple[int, ...]
    z_indices: tuple[int, ...]

    @property
    def path(self) -> str:
        return field_path(self.row, self.column, self.field)


def list_fields(manifest: pd.DataFrame) -> list[FieldRef]:
    """Every field of an ingest manifest, in plate order."""
    refs = []
    keys = ["plate", "well", "row", "column", "site", "field"]
    for key, planes in manifest.groupby(keys, sort=False):
        plate, well, row, column, site, field = key
        refs.append(
            FieldRef(
                plate=str(plate),
                well=str(well),
                row=str(row),
                column=int(column),
                site=int(site),
                field=int(field),
                channels=tuple(sorted(int(c) for c in planes["channel"].unique())),
                z_indices=tuple(sorted(int(z) for z in planes["z"].unique())),
            )
        )
    return refs


def read_field_channel(plate_path: str | os.PathLike, ref: FieldRef, index: int) -> np.ndarray:
    """One channel of a field at full resolution, ``(z, y, x)`` (``index``: its position in
    ``ref.channels``): the values of ``field_array(plate_path, ref)[index]``, read without
    a Dask graph (:func:`platefocus.io.omezarr.read_image_channel`)."""
    return read_image_channel(plate_path, ref.path, index)


def field_array(plate_path: str | os.PathLike, ref: FieldRef, level: int = 0) -> da.Array:
    """The field image ``(c, z, y, x)`` as a Dask array, one chunk per plane."""
    array = da.from_zarr(open_image(plate_path, ref.path, level))
    axes = read_image_axes(plate_path, ref.path)
    if axes == "tczyx":  # an input plate of one time point (see platefocus.io.plate_input)
        return array[0]
    if axes == "zyx":
        return array[None]
    return array
