"""The plate's files checked before anything is written: each readable, holding the
plane the manifest names, all of one shape and dtype, and every field holding every
(channel, z) plane of the plate. Problems are QC rows (:data:`QC_COLUMNS`)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from platefocus.errors import InputError
from platefocus.io.readers import FileInfo, probe_file

FIELD_KEY = ["plate", "well", "row", "column", "site"]
QC_COLUMNS = ["plate", "well", "site", "path", "problem"]


def probe_plane(
    path: str | os.PathLike, page: int = 0, planes_named: int = 1
) -> tuple[tuple[int, int], np.dtype]:
    """Shape and dtype of plane ``page`` of a file, from its header (pixels unread).

    ``planes_named``: how many planes of the plate come from this file; a file holding
    more (a stack whose name gives one z) is an error, never cut to its first plane.
    """
    return _plane_in(probe_file(path), path, page, planes_named)


def _plane_in(
    info: FileInfo, path: str | os.PathLike, page: int, planes_named: int
) -> tuple[tuple[int, int], np.dtype]:
    """:func:`probe_plane` on a file's header already read (``info``)."""
    pages = info.size("C") * info.size("Z") * info.scenes
    if page >= pages:
        raise InputError(path, f"has {pages} plane(s), plane {page} was asked for")
    if pages > planes_named:
        raise InputError(
            path,
            f"holds {pages} planes ({info.axes} {info.shape}) but the file name names "
            f"{planes_named}: drop z/channel from the pattern to read it as a stack",
        )
    return info.plane_shape, info.dtype


def check_manifest(manifest: pd.DataFrame, workers: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Probe every file and check plate consistency.

    Returns
    -------
    manifest : DataFrame
        The input with ``shape`` and ``dtype`` columns (empty strings where unreadable).
    problems : DataFrame
        One row per problem, columns ``QC_COLUMNS``, in manifest order.
    """
    if manifest["plate"].nunique() != 1:
        raise InputError(
            "input.pattern",
            f"files of {manifest['plate'].nunique()} plates found "
            f"({sorted(manifest['plate'].unique())[:5]}); select one with `plates`",
        )
    shapes, dtypes, problems = _probe_planes(manifest, workers)
    manifest = manifest.assign(shape=shapes, dtype=dtypes)

    readable = manifest[manifest["shape"] != ""]
    if not readable.empty:
        ref_shape = readable["shape"].mode().iloc[0]
        ref_dtype = readable["dtype"].mode().iloc[0]
        odd = readable[(readable["shape"] != ref_shape) | (readable["dtype"] != ref_dtype)]
        for row in odd.itertuples(index=False):
            problems.append(
                _problem(
                    row,
                    f"plane of shape {row.shape} {row.dtype} differs from the "
                    f"plate's {ref_shape} {ref_dtype}",
                )
            )
    problems.extend(_missing_planes(manifest))
    return manifest, pd.DataFrame(problems, columns=QC_COLUMNS)


def _missing_planes(manifest: pd.DataFrame) -> list[dict]:
    """A problem for every field and channel that lacks some of the plate's planes
    (counted per field and channel first: only incomplete ones are looked at)."""
    z_all = sorted(manifest["z"].unique())
    channels = sorted(manifest["channel"].unique())
    per_channel = manifest.groupby([*FIELD_KEY, "channel"])["z"].nunique().unstack("channel")
    per_channel = per_channel.reindex(columns=channels).fillna(0)
    incomplete = set(per_channel.index[(per_channel < len(z_all)).any(axis=1)])
    problems = []
    for key, group in manifest.groupby(FIELD_KEY, sort=False):
        if key not in incomplete:
            continue
        for ch in channels:
            present = set(group.loc[group["channel"] == ch, "z"])
            missing = [int(z) for z in z_all if z not in present]
            if missing:
                plate, well, _, _, site = key
                problems.append(
                    dict(
                        plate=plate,
                        well=well,
                        site=site,
                        path=str(Path(group["path"].iloc[0]).parent.parent),
                        problem=f"field {well} site {site} channel {ch} lacks planes "
                        f"z={missing} of the plate's {len(z_all)}",
                    )
                )
    return problems


def _probe_planes(manifest: pd.DataFrame, workers: int) -> tuple[list, list, list[dict]]:
    """Shape and dtype of every plane (empty strings where unreadable) and the problems,
    reading each file's header once, however many planes a stack file holds."""
    problems: list[dict] = []
    shapes: list[str] = []
    dtypes: list[str] = []

    named = manifest["path"].value_counts()

    def probe(path):
        try:
            return probe_file(path)
        except InputError as err:
            return err

    paths = list(dict.fromkeys(manifest["path"]))
    with ThreadPoolExecutor(max(1, workers)) as pool:
        headers = dict(zip(paths, pool.map(probe, paths), strict=True))

    def plane(path, page):
        header = headers[path]
        if isinstance(header, InputError):
            return None, header.problem
        try:
            return _plane_in(header, path, page, int(named[path])), None
        except InputError as err:
            return None, err.problem

    results = [plane(p, g) for p, g in zip(manifest["path"], manifest["page"], strict=True)]
    # rows as tuples, not Series: a full plate has tens of thousands of planes
    rows = manifest[["plate", "well", "site", "path"]].itertuples(index=False)
    for row, (info, problem) in zip(rows, results, strict=True):
        if info is None:
            problems.append(_problem(row, problem))
            shapes.append("")
            dtypes.append("")
        else:
            shapes.append("x".join(map(str, info[0])))
            dtypes.append(str(info[1]))
    return shapes, dtypes, problems


def _problem(row, problem: str) -> dict:
    """A QC row for a manifest row (a named tuple with plate, well, site and path)."""
    return dict(plate=row.plate, well=row.well, site=row.site, path=row.path, problem=problem)
