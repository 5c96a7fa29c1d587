"""OME-Zarr HCS plates (NGFF 0.5, Zarr v3) written through ``ome_zarr.writer``.

A field image has axes ``(c, z, y, x)``; it lives at ``<row>/<column>/<field>`` where
``field`` is the 0-based index of the site within its well.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import zarr
from ome_zarr.format import FormatV05
from ome_zarr.writer import write_image, write_plate_metadata, write_well_metadata

FORMAT = FormatV05()
AXES = "czyx"
# Colours of the first channels in viewers: Hoechst blue, then green, red, grey.
CHANNEL_COLOURS = ("0000FF", "00FF00", "FF0000", "FFFFFF")


@dataclass(frozen=True)
class Acquisition:
    """Physical sampling of a plate.

    Attributes
    ----------
    pixel_size_um : float
        Pixel size in the sample plane, micrometres.
    z_step_um : float
        Distance between planes, micrometres.
    channel_names : tuple of str
        Channel labels in channel order (``w1``, ``w2``, ...); may be shorter than the
        number of channels, the rest are named ``w<n>``.
    """

    pixel_size_um: float
    z_step_um: float
    channel_names: tuple[str, ...] = ()

    def channel_label(self, index: int, channel_id: int) -> str:
        if index < len(self.channel_names):
            return self.channel_names[index]
        return f"w{channel_id}"


def field_path(row: str, column: int, field: int) -> str:
    """Path of a field image inside the plate, e.g. ``A/1/0``."""
    return f"{row}/{column}/{field}"


def write_plate(
    root: zarr.Group, name: str, wells: Sequence[tuple[str, int]], field_count: int
) -> None:
    """Write the plate metadata listing ``wells`` (``(row, column)`` pairs)."""
    rows = sorted({r for r, _ in wells}, key=lambda r: (len(r), r))
    columns = sorted({c for _, c in wells})
    write_plate_metadata(
        root,
        rows,
        [str(c) for c in columns],
        [f"{r}/{c}" for r, c in wells],
        fmt=FORMAT,
        field_count=field_count,
        name=name,
    )


def write_well(root: zarr.Group, row: str, column: int, fields: Sequence[int]) -> None:
    """Write the well metadata that lists its field images."""
    write_well_metadata(root[f"{row}/{column}"], [{"path": str(f)} for f in fields], fmt=FORMAT)


def write_field(
    root: zarr.Group,
    row: str,
    column: int,
    field: int,
    image: np.ndarray,
    acquisition: Acquisition,
    channel_ids: Sequence[int],
    *,
    pyramid_levels: int = 2,
    extra_attrs: dict | None = None,
) -> None:
    """Write one field image ``(c, z, y, x)`` with a 2x pyramid in ``y, x`` for viewers.

    Chunks hold one plane of one channel at full resolution, so later stages read single
    planes lazily.
    """
    if image.ndim != 4:
        raise ValueError(f"field image must be (c, z, y, x), got shape {image.shape}")
    y, x = image.shape[2:]
    group = root.require_group(field_path(row, column, field))
    top = np.iinfo(image.dtype).max if image.dtype.kind in "ui" else float(image.max())
    channels = [
        {
            "label": acquisition.channel_label(i, cid),
            "color": CHANNEL_COLOURS[i % len(CHANNEL_COLOURS)],
            "window": {
                "start": float(np.percentile(image[i], 0.1)),
                "end": float(np.percentile(image[i], 99.9)),
                "min": 0.0,
                "max": float(top),
            },
        }
        for i, cid in enumerate(channel_ids)
    ]
    write_image(
        image,
        group,
        scale_factors=tuple(2**k for k in range(1, pyramid_levels + 1)),
        axes=AXES,
        fmt=FORMAT,
        scale={
            "c": 1.0,
            "z": acquisition.z_step_um,
            "y": acquisition.pixel_size_um,
            "x": acquisition.pixel_size_um,
        },
        axes_units={"z": "micrometer", "y": "micrometer", "x": "micrometer"},
        storage_options={"chunks": (1, 1, y, x)},
        omero={"channels": channels},
    )
    if extra_attrs:
        group.attrs.update({"platefocus": extra_attrs})


def open_field(plate_path: str | os.PathLike, row: str, column: int, field: int, level: int = 0):
    """Open a field image at a pyramid level as a ``zarr.Array`` ``(c, z, y, x)``."""
    root = zarr.open_group(str(plate_path), mode="r")
    group = root[field_path(row, column, field)]
    datasets = group.attrs["ome"]["multiscales"][0]["datasets"]
    return group[datasets[level]["path"]]
