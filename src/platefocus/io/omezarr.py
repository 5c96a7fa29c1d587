"""OME-Zarr HCS plates (NGFF 0.5, Zarr v3) written through ``ome_zarr.writer``.

A field image has axes ``(c, z, y, x)``; it lives at ``<row>/<column>/<field>`` where
``field`` is the 0-based index of the site within its well. platefocus' own metadata of a
group (where a field came from, which model restored it) sits under its ``platefocus``
attribute. This is the only module that reads or writes OME-Zarr metadata.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zarr
from ome_zarr.format import FormatV05
from ome_zarr.writer import write_multiscales_metadata, write_plate_metadata, write_well_metadata
from zarr.codecs import BloscCodec, BloscShuffle

from platefocus.io.chunk_writer import write_array
from platefocus.io.pyramid import pyramid

FORMAT = FormatV05()
AXES = "czyx"
#: Blosc LZ4 with bit shuffling (the 16-bit values' bits regrouped first). Measured on the
#: 68 planes of a BBBC006 field, one thread, against zarr's default Zstandard (level 3):
#: encoding 0.04 s instead of 0.36 s, decoding 0.03 s instead of 0.07 s (every later stage
#: reads these chunks), and 55% of the raw size instead of 58%.
COMPRESSOR = BloscCodec(cname="lz4", clevel=5, shuffle=BloscShuffle.bitshuffle)
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

    @classmethod
    def from_config(cls, acquisition: dict) -> Acquisition:
        """The workflow's ``acquisition`` section."""
        return cls(
            pixel_size_um=float(acquisition["pixel_size_um"]),
            z_step_um=float(acquisition["z_step_um"]),
            channel_names=tuple(acquisition.get("channel_names", ())),
        )

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
    executor: Executor | None = None,
) -> None:
    """Write one field image ``(c, z, y, x)`` with a 2x pyramid in ``y, x`` for viewers.

    Full-resolution chunks hold one plane of one channel, so later stages read single
    planes lazily; the pyramid levels below it (viewers only) hold one channel's whole
    stack per chunk. The arrays are created with zarr and their chunks compressed in the
    calling thread (:func:`platefocus.io.chunk_writer.write_array`); the NGFF metadata
    is written with ``ome_zarr.writer.write_multiscales_metadata`` (transformations
    from ome-zarr's format). Why not ``ome_zarr``'s ``write_image``: it writes through a
    Dask graph per level, which took 0.8 s of the 1.2 s of one BBBC006 field (2 x 34 planes of
    520 x 696), and even without pixels to write, its array creation took 18 ms of the
    55 ms of a restored field (9 planes of 512 x 512) (``benchmarks/bench_ingest.py``,
    ``bench_restore.py``).

    Chunk files are written in place, not each through a temporary file: callers make
    the field atomic (:func:`platefocus.io.partial.clear_field` before,
    :func:`~platefocus.io.partial.mark_done` after), as ingest and restore do. With
    ``executor``, the pyramid's planes and the chunks are made as tasks there.
    """
    if image.ndim != 4:
        raise ValueError(f"field image must be (c, z, y, x), got shape {image.shape}")
    group = root.require_group(field_path(row, column, field))
    levels = pyramid(image, pyramid_levels, executor)
    top = np.iinfo(image.dtype).max if image.dtype.kind in "ui" else float(image.max())
    # the viewer's contrast window, from the coarsest level (block means of the plane)
    window = [display_window(levels[-1][i]) for i in range(len(channel_ids))]
    channels = [
        {
            "label": acquisition.channel_label(i, cid),
            "color": CHANNEL_COLOURS[i % len(CHANNEL_COLOURS)],
            "window": {
                "start": window[i][0],
                "end": window[i][1],
                "min": 0.0,
                "max": float(top),
            },
        }
        for i, cid in enumerate(channel_ids)
    ]
    chunks = [(1, 1, *image.shape[2:])] + [(1, *level.shape[1:]) for level in levels[1:]]
    scale = (1.0, acquisition.z_step_um, acquisition.pixel_size_um, acquisition.pixel_size_um)
    # ome-zarr's transformations of the levels (scale and the half-pixel translation),
    # in physical units as its write_multiscale makes them
    transforms = FORMAT.generate_coordinate_transformations([level.shape for level in levels])
    datasets = []
    for i, (level, chunk, transform) in enumerate(zip(levels, chunks, transforms, strict=True)):
        transform[0]["scale"] = [v * s for v, s in zip(transform[0]["scale"], scale, strict=True)]
        array = group.create_array(
            f"s{i}",
            shape=level.shape,
            dtype=level.dtype,
            chunks=chunk,
            compressors=COMPRESSOR,
            dimension_names=list(AXES),
        )
        write_array(array, level, atomic_chunks=False, executor=executor)
        datasets.append({"path": f"s{i}", "coordinateTransformations": transform})
    write_multiscales_metadata(
        group,
        datasets,
        fmt=FORMAT,
        axes=AXES,
        axes_units={"z": "micrometer", "y": "micrometer", "x": "micrometer"},
        name="image",
        metadata={"omero": {"channels": channels}},
    )
    if extra_attrs:
        write_platefocus_attrs(group, extra_attrs)


def display_window(values: np.ndarray, percentiles: tuple[float, float] = (0.1, 99.9)):
    """``(start, end)``: the viewer's contrast window, the 0.1 and 99.9 percentiles.

    For 8- and 16-bit unsigned images the order statistics are read from the histogram
    (``np.bincount``, one pass) instead of sorting: 10x faster on a BBBC006 field, and
    equal to ``np.percentile`` (linear interpolation between the two order statistics).
    """
    values = np.asarray(values)
    if values.dtype not in (np.uint8, np.uint16) or values.size == 0:
        low, high = np.percentile(values, percentiles)
        return float(low), float(high)
    cumulative = np.cumsum(np.bincount(values.ravel()))
    n = int(cumulative[-1])
    out = []
    for q in percentiles:
        position = q / 100 * (n - 1)
        k = int(np.floor(position))
        below = int(np.searchsorted(cumulative, k + 1))  # the k-th smallest value (0-based)
        above = int(np.searchsorted(cumulative, min(k + 2, n)))
        out.append(float(below + (above - below) * (position - k)))
    return out[0], out[1]


def write_platefocus_attrs(group: zarr.Group, attrs: dict) -> None:
    """Store platefocus' own metadata of a plate or field group."""
    group.attrs.update({"platefocus": attrs})


def open_plate(plate_path: str | os.PathLike, mode: str = "r") -> zarr.Group:
    """The root group of a plate (``mode="r+"`` to add metadata to it)."""
    return zarr.open_group(str(plate_path), mode=mode)


def require_wells(plate_path: str | os.PathLike, wells: Iterable[tuple[str, int]]) -> zarr.Group:
    """Create the plate (Zarr v3) and the groups of ``wells`` if missing; the plate's root.

    Idempotent, so jobs writing other wells of the same plate can run at the same time.
    """
    root = zarr.open_group(str(plate_path), mode="a", zarr_format=3)
    for row, column in wells:
        root.require_group(row).require_group(str(column))
    return root


def open_image(plate_path: str | os.PathLike, path: str, level: int = 0) -> zarr.Array:
    """The image at ``path`` inside a plate, at a pyramid level (``(c, z, y, x)``)."""
    group = zarr.open_group(str(plate_path), mode="r")[path]
    datasets = ome_attrs(group)["multiscales"][0]["datasets"]
    return group[datasets[level]["path"]]


def read_image_channel(plate_path: str | os.PathLike, path: str, index: int) -> np.ndarray:
    """Channel ``index`` of the image at ``path`` at full resolution, ``(z, y, x)``, read
    with zarr directly (``czyx``, ``tczyx`` of one time point, or ``zyx`` of one channel).

    Restore's readers call this once per field: through a Dask array and a second opening
    of the group, the same read cost 14 ms more of a 9-plane 512 x 512 field's 37 ms.
    """
    group = zarr.open_group(str(Path(plate_path) / path), mode="r")
    multiscale = ome_attrs(group)["multiscales"][0]
    axes = "".join(a["name"] for a in multiscale["axes"])
    array = group[multiscale["datasets"][0]["path"]]
    if axes == "tczyx":  # an input plate of one time point (see platefocus.io.plate_input)
        return array[0, index]
    if axes == "zyx":
        if index != 0:
            raise IndexError(f"{path} has one channel, not a channel at {index}")
        return array[...]
    return array[index]


def read_image_axes(plate_path: str | os.PathLike, path: str) -> str:
    """Axis names of the image at ``path`` inside a plate, e.g. ``"czyx"``."""
    group = zarr.open_group(str(plate_path), mode="r")[path]
    return "".join(a["name"] for a in ome_attrs(group)["multiscales"][0]["axes"])


def open_field(plate_path: str | os.PathLike, row: str, column: int, field: int, level: int = 0):
    """Open a field image at a pyramid level as a ``zarr.Array`` ``(c, z, y, x)``."""
    return open_image(plate_path, field_path(row, column, field), level)


def read_platefocus_attrs(plate_path: str | os.PathLike, path: str = "") -> dict:
    """platefocus' own metadata of the plate (``path=""``) or of the group at ``path``."""
    root = zarr.open_group(str(plate_path), mode="r")
    group = root[path] if path else root
    return dict(group.attrs.get("platefocus", {}))


def ome_attrs(group: zarr.Group) -> dict:
    """A group's OME-NGFF metadata: under ``ome`` (NGFF 0.5, Zarr v3) or at the top of
    its attributes (NGFF 0.4, Zarr v2)."""
    attrs = group.attrs.asdict()
    return attrs.get("ome", attrs)


def read_acquisition(plate_path: str | os.PathLike, path: str) -> Acquisition:
    """Pixel size, z-step (micrometres) and channel labels from the OME metadata of the
    image at ``path`` (1 where a scale is not stated)."""
    image = ome_attrs(zarr.open_group(str(plate_path), mode="r")[path])
    multiscale = image["multiscales"][0]
    axes = [a["name"] for a in multiscale["axes"]]
    transforms = multiscale["datasets"][0].get("coordinateTransformations", [])
    scale = next((t["scale"] for t in transforms if t.get("type") == "scale"), [1.0] * len(axes))
    labels = [
        c.get("label", str(i + 1)) for i, c in enumerate(image.get("omero", {}).get("channels", []))
    ]
    return Acquisition(float(scale[-1]), float(scale[axes.index("z")]), tuple(labels))
