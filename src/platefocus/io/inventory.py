"""What a plate folder holds, before anything is written: wells x sites x channels x
planes, planes missing or extra, shapes, dtypes, compression, and the pixel size and
z-step stated in the files' metadata (checked against the configured acquisition)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from platefocus.errors import InputError
from platefocus.io.readers import FileInfo, probe_file

#: Relative difference above which file metadata and configuration are said to disagree.
SAMPLING_TOLERANCE = 0.01
FIELD_COLUMNS = [
    "plate",
    "well",
    "row",
    "column",
    "site",
    "channels",
    "planes",
    "missing_z",
    "extra_z",
    "shape",
    "dtype",
    "compression",
    "pixel_size_um",
    "z_step_um",
]


@dataclass(frozen=True)
class Inventory:
    """The fields of a plate (one row each, ``FIELD_COLUMNS``) and what to tell the user."""

    fields: pd.DataFrame
    warnings: list[str]

    def summary(self) -> str:
        """A few lines: counts, shapes, dtypes, compression, sampling, warnings."""
        f = self.fields
        lines = [
            f"plate {', '.join(sorted(f['plate'].unique()))}: {f['well'].nunique()} wells x "
            f"{int(f.groupby('well')['site'].nunique().max())} sites x "
            f"{int(f['channels'].str.count(',').max()) + 1} channels x "
            f"{int(f['planes'].max())} planes ({len(f)} fields)",
            f"planes: {_values(f['shape'])} {_values(f['dtype'])}, "
            f"compression {_values(f['compression'])}",
            "sampling in metadata: "
            + _stated(f["pixel_size_um"], "um/px")
            + ", "
            + _stated(f["z_step_um"], "um between planes"),
            f"fields with missing planes: {int((f['missing_z'] != '').sum())}, "
            f"with extra planes: {int((f['extra_z'] != '').sum())}",
        ]
        return "\n".join(lines + [f"WARNING: {w}" for w in self.warnings])


def _values(column: pd.Series) -> str:
    return ", ".join(sorted(column.unique()))


def _stated(values: pd.Series, unit: str) -> str:
    known = values.dropna().unique()
    return f"{', '.join(f'{v:g}' for v in sorted(known))} {unit}" if len(known) else "not stated"


def _z_list(values) -> str:
    return " ".join(str(int(z)) for z in sorted(values))


def take_inventory(
    manifest: pd.DataFrame,
    pixel_size_um: float | None = None,
    z_step_um: float | None = None,
) -> Inventory:
    """The inventory of a discovered plate (:func:`platefocus.io.discover.discover_planes`).

    One file per field is opened (header only) for compression and stated sampling;
    ``pixel_size_um``/``z_step_um`` (the configured acquisition, micrometres) are checked
    against what the files state.
    """
    if manifest.empty:
        raise InputError("input.root", "no planes found")
    common = _common_planes(manifest)
    rows = []
    for key, planes in manifest.groupby(["plate", "well", "row", "column", "site"], sort=False):
        info = _file_info(planes.iloc[0])
        present = set(planes["z"])
        rows.append(
            dict(
                zip(["plate", "well", "row", "column", "site"], key, strict=True),
                channels=",".join(str(c) for c in sorted(planes["channel"].unique())),
                planes=len(present),
                missing_z=_z_list(common - present),
                extra_z=_z_list(present - common),
                shape="x".join(map(str, info.plane_shape)),
                dtype=str(info.dtype),
                compression=info.compression,
                pixel_size_um=info.pixel_size_um,
                z_step_um=info.z_step_um,
            )
        )
    fields = pd.DataFrame(rows, columns=FIELD_COLUMNS)
    return Inventory(fields, _disagreements(fields, pixel_size_um, z_step_um))


def _file_info(plane: pd.Series) -> FileInfo:
    """What the file of a plane holds; for a plane of an OME-Zarr input plate, from the
    manifest (its sampling is in the plate's own metadata, not checked here)."""
    if plane["page"] == -1:
        y, x = (int(n) for n in plane["shape"].split("x"))
        return FileInfo("YX", (y, x), np.dtype(plane["dtype"]), "OME-Zarr")
    return probe_file(plane["path"])


def _common_planes(manifest: pd.DataFrame) -> set[int]:
    """The set of planes most fields have (the plate's intended stack)."""
    per_field = manifest.groupby(["plate", "well", "site"])["z"].apply(
        lambda z: tuple(sorted(set(z)))
    )
    return set(per_field.mode().iloc[0])


def _disagreements(
    fields: pd.DataFrame, pixel_size_um: float | None, z_step_um: float | None
) -> list[str]:
    warnings = []
    for column, configured, key in (
        ("pixel_size_um", pixel_size_um, "acquisition.pixel_size_um"),
        ("z_step_um", z_step_um, "acquisition.z_step_um"),
    ):
        stated = fields[column].dropna().unique()
        for value in stated:
            if configured and not math.isclose(value, configured, rel_tol=SAMPLING_TOLERANCE):
                warnings.append(f"{key} is {configured:g} but the files state {value:g}")
    if fields["shape"].nunique() > 1 or fields["dtype"].nunique() > 1:
        warnings.append("fields differ in plane shape or dtype: see the table")
    return warnings
