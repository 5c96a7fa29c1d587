"""OME-Zarr HCS plates read: the one reader of a plate's planes, for plates platefocus
wrote and for plates of other tools (NGFF 0.4 and 0.5), validated with ``ome-zarr-models``
and listed plane by plane from their metadata. As workflow input
(``input.layout: ome-zarr``) such a plate is used in place (the run's ``plate.ome.zarr`` is
a link to it, no pixel is copied); restore, export and the CLI read plates through
:func:`read_plate_manifest`.

Images may have axes ``zyx``, ``czyx`` or ``tczyx`` (one time point); channels are
numbered 1, 2... in array order and planes 0, 1... and sites 1, 2... in the well's order,
unless the images carry platefocus' own ``channels``/``z_indices``/``site`` metadata
(plates that platefocus wrote).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import zarr

from platefocus.errors import InputError
from platefocus.io.discover import parse_well
from platefocus.io.omezarr import Acquisition, ome_attrs, read_acquisition, read_image_axes


class _FieldLost(InputError):
    """A field of the input plate whose pixels are not all there (a missing image group
    or missing chunks): with ``on_bad_file: skip`` a QC row, otherwise this error."""


#: Image axes an input plate may have (time, if present, must hold one point).
ACCEPTED_AXES = ("zyx", "czyx", "tczyx")


def _open_validated(root: str | os.PathLike):
    from ome_zarr_models import open_ome_zarr
    from ome_zarr_models.v04 import HCS as HCSv04
    from ome_zarr_models.v05 import HCS as HCSv05

    try:
        group = zarr.open_group(str(root), mode="r")
        model = open_ome_zarr(group)
    except Exception as err:
        raise InputError(
            root, f"not a valid OME-Zarr plate ({type(err).__name__}: {err})"
        ) from None
    if not isinstance(model, HCSv04 | HCSv05):
        raise InputError(root, f"is an OME-Zarr {type(model).__name__}, not an HCS plate")
    return group


def plate_planes(root: str | os.PathLike, plate: str | None = None) -> pd.DataFrame:
    """One row per plane of an HCS plate, in the columns of a checked ingest manifest
    (``..., path, page, shape, dtype, field``; ``path`` is the plate, ``page`` -1).

    Raises
    ------
    InputError
        Naming the field, when a listed field is missing or one of its chunks is.
    """
    return checked_plate_planes(root, plate, on_bad_file="error")[0]


def checked_plate_planes(
    root: str | os.PathLike, plate: str | None = None, on_bad_file: str = "error"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`plate_planes` and the QC table (``QC_COLUMNS``) of the fields left out.

    With ``on_bad_file="error"`` the first missing field or chunk raises; with ``"skip"``
    the field becomes a QC row (the way a damaged TIFF does) and the rest of the plate
    is used. Never zeros in place of lost pixels.
    """
    from platefocus.io.ingest import ON_BAD_FILE
    from platefocus.io.plate_check import QC_COLUMNS

    if on_bad_file not in ON_BAD_FILE:
        raise InputError("ingest.on_bad_file", f"must be one of {ON_BAD_FILE}, got {on_bad_file!r}")
    group = _open_validated(root)
    meta = ome_attrs(group)["plate"]
    name = plate or meta.get("name") or Path(root).name.split(".")[0]
    rows, problems = [], []
    for well in meta["wells"]:
        images = ome_attrs(group[well["path"]])["well"]["images"]
        row, column = parse_well(well["path"].replace("/", ""))
        for field, image_meta in enumerate(images):
            path = f"{well['path']}/{image_meta['path']}"
            key = dict(
                plate=name,
                well=f"{row}{column:02d}",
                row=row,
                column=column,
                site=field + 1,
                field=field,
            )
            try:
                if path not in group:
                    raise _FieldLost(
                        f"{root}/{path}", "listed in its well's metadata, but the field is missing"
                    )
                rows += _image_planes(group[path], path, root, key)
            except _FieldLost as err:
                if on_bad_file == "error":
                    raise
                problems.append(
                    dict(
                        plate=name,
                        well=key["well"],
                        site=key["site"],
                        path=err.where,
                        problem=err.problem,
                    )
                )
    if not rows:
        raise InputError(
            root,
            "the plate lists no images"
            if not problems
            else f"no field left: {problems[0]['path']}: {problems[0]['problem']}",
        )
    return pd.DataFrame(rows), pd.DataFrame(problems, columns=QC_COLUMNS)


def _image_planes(image: zarr.Group, path: str, root, key: dict) -> list[dict]:
    axes = read_image_axes(root, path)
    if axes not in ACCEPTED_AXES:
        raise InputError(f"{root}/{path}", f"image axes {axes!r}, expected one of {ACCEPTED_AXES}")
    array = image[ome_attrs(image)["multiscales"][0]["datasets"][0]["path"]]
    sizes = dict(zip(axes, array.shape, strict=True))
    if sizes.get("t", 1) != 1:
        raise InputError(f"{root}/{path}", f"holds {sizes['t']} time points; one is expected")
    # Zarr reads a chunk that is not there as the fill value: lost pixels would be zeros.
    # Counting the stored chunks is one listing per image.
    missing = array.nchunks - array.nchunks_initialized
    if missing:
        raise _FieldLost(
            f"{root}/{path}",
            f"{missing} of {array.nchunks} chunks are missing (they would read as zeros)",
        )
    extra = image.attrs.get("platefocus", {})
    key = dict(key, site=int(extra.get("site", key["site"])))
    channels = extra.get("channels") or list(range(1, sizes.get("c", 1) + 1))
    z_indices = extra.get("z_indices") or list(range(sizes["z"]))
    shape = f"{sizes['y']}x{sizes['x']}"
    return [
        dict(
            key,
            channel=int(c),
            z=int(z),
            path=str(root),
            page=-1,
            shape=shape,
            dtype=str(array.dtype),
        )
        for c in channels
        for z in z_indices
    ]


def read_plate_manifest(plate_path: str | os.PathLike) -> tuple[pd.DataFrame, Acquisition]:
    """Every plane of an HCS plate (as :func:`plate_planes`) and its acquisition (pixel
    size, z-step, channel labels of its first image)."""
    planes = plate_planes(plate_path)
    first = planes.iloc[0]
    path = f"{first['row']}/{_column_path(plate_path, first)}/{first['field']}"
    return planes, read_acquisition(plate_path, path)


def _column_path(plate_path, plane) -> str:
    """The column part of the plane's well path as the plate writes it (``3`` or ``03``)."""
    meta = ome_attrs(zarr.open_group(str(plate_path), mode="r"))["plate"]
    for well in meta["wells"]:
        row, column = well["path"].split("/")
        if row == plane["row"] and int(column) == int(plane["column"]):
            return column
    return str(plane["column"])


def link_plate(root: str | os.PathLike, out_path: str | os.PathLike) -> None:
    """Make ``out_path`` a link to the input plate (replaced atomically)."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.link-{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(Path(root).resolve(), target_is_directory=True)
    if out.is_symlink():
        out.unlink()
    os.replace(tmp, out)


def is_in_place(manifest: pd.DataFrame) -> bool:
    """Whether a discovered manifest lists the planes of an input plate used in place."""
    return bool(len(manifest)) and bool((manifest["page"] == -1).all())
