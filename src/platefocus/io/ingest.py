"""Ingest TIFF Z-stacks listed in a manifest into an OME-Zarr HCS plate.

Every file is checked before anything is written: readable TIFF holding one 2D plane,
same shape and dtype as the rest of the plate, and every field holds every (channel, z)
plane present in the plate. With ``on_bad_file="error"`` the first problem stops the
ingest with an :class:`~platefocus.errors.InputError`; with ``"skip"`` the fields with
bad files are left out and listed in the QC table. The checks live in
:mod:`platefocus.io.plate_check`.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from platefocus.errors import InputError
from platefocus.io.omezarr import (
    Acquisition,
    open_plate,
    require_wells,
    write_field,
    write_plate,
    write_well,
)
from platefocus.io.partial import (
    clear_field,
    is_done_whole,
    mark_done,
    partial_path,
    publish,
    require_done,
    stamp_of,
)
from platefocus.io.plate_check import FIELD_KEY, QC_COLUMNS, check_manifest
from platefocus.io.readers import read_plane
from platefocus.logs import progress as progress_bar

log = logging.getLogger(__name__)

ON_BAD_FILE = ("error", "skip")


@dataclass(frozen=True)
class IngestResult:
    """What an ingest wrote: the manifest of ingested planes and the QC table of skips.

    ``manifest`` adds to the discovery columns ``field`` (index within the well),
    ``shape`` (``"YxX"``) and ``dtype``; ``qc`` has columns ``plate, well, site, path,
    problem``.
    """

    manifest: pd.DataFrame
    qc: pd.DataFrame


def prepare_ingest(
    manifest: pd.DataFrame, on_bad_file: str = "error", workers: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every file of a discovered plate and decide what will be ingested.

    Returns
    -------
    good : DataFrame
        The planes of fields without problems, with ``shape``, ``dtype`` and ``field``
        (the field's index within its well) added.
    problems : DataFrame
        The QC table of skipped fields (``QC_COLUMNS``).

    Raises
    ------
    InputError
        On the first problem with ``on_bad_file="error"``; when no field is left.
    """
    if on_bad_file not in ON_BAD_FILE:
        raise InputError("ingest.on_bad_file", f"must be one of {ON_BAD_FILE}, got {on_bad_file!r}")
    manifest, problems = check_manifest(manifest, workers)
    if not problems.empty and on_bad_file == "error":
        first = problems.iloc[0]
        raise InputError(first["path"], first["problem"])
    bad_fields = set(zip(problems["well"], problems["site"], strict=True))
    good = manifest[
        [(w, s) not in bad_fields for w, s in zip(manifest["well"], manifest["site"], strict=True)]
    ].copy()
    if good.empty:
        raise InputError(
            manifest["path"].iloc[0], "no field left to ingest: every field has a bad file"
        )
    good["field"] = good.groupby("well")["site"].rank(method="dense").astype(int) - 1
    return good.reset_index(drop=True), problems


def ingest_fields(
    good: pd.DataFrame,
    out_path: str | os.PathLike,
    acquisition: Acquisition,
    *,
    wells: Sequence[str] | None = None,
    on_bad_file: str = "error",
    workers: int = 1,
    pyramid_levels: int = 2,
    progress: bool = True,
) -> IngestResult:
    """Write the fields of ``wells`` (default: all) into the partial plate of ``out_path``.

    ``good`` comes from :func:`prepare_ingest`. Several calls (Snakemake jobs) may write
    disjoint wells at once; a field is marked done once written, and a rerun after a kill
    skips it. Returns the manifest rows of every done field of these wells and the QC rows
    of fields whose files failed to read (``on_bad_file="skip"``).
    """
    partial = partial_path(out_path)
    channels = sorted(good["channel"].unique())
    z_levels = sorted(good["z"].unique())
    stamp = ingest_stamp(good, acquisition, pyramid_levels)
    if wells is not None:
        good = good[good["well"].isin(set(wells))]
    fields = list(good.groupby([*FIELD_KEY, "field"], sort=False))
    # Idempotent, so jobs writing other wells of the plate can start at the same time.
    root = require_wells(partial, [(row, column) for (_, _, row, column, _, _), _ in fields])

    done, failures = set(), []
    # `workers` threads take a field each; its planes are decoded and its chunks
    # compressed as small tasks on a second pool of `workers` threads, so the fields
    # read at once share every core to the end (a plate of 2 fields on 2 cores kept one
    # core idle while the slower field finished).
    with (
        ThreadPoolExecutor(max(1, workers)) as pool,
        ThreadPoolExecutor(max(1, workers)) as tasks,
    ):
        write = functools.partial(
            _ingest_field,
            root=root,
            partial=partial,
            stamp=stamp,
            channels=channels,
            z_levels=z_levels,
            acquisition=acquisition,
            on_bad_file=on_bad_file,
            pyramid_levels=pyramid_levels,
            tasks=tasks if workers > 1 else None,
        )
        for key, failure in progress_bar(
            pool.map(write, fields),
            total=len(fields),
            desc="ingesting fields",
            disable=not progress,
        ):
            if failure is None:
                done.add(key)
            else:
                failures.append(failure)
    for failure in failures:
        log.warning(
            "skipped field %s site %s: %s: %s",
            failure["well"],
            failure["site"],
            failure["path"],
            failure["problem"],
        )
    written = good[[(w, s) in done for w, s in zip(good["well"], good["site"], strict=True)]]
    return IngestResult(written.reset_index(drop=True), pd.DataFrame(failures, columns=QC_COLUMNS))


def _finite(plane: np.ndarray, path: str) -> np.ndarray:
    """The plane, or an error naming the file and how many pixels are NaN or infinite."""
    if plane.dtype.kind == "f":
        bad = int(np.count_nonzero(~np.isfinite(plane)))
        if bad:
            raise InputError(path, f"{bad} non-finite pixel(s) (NaN or infinite)")
    return plane


def _read_stack(
    planes: pd.DataFrame, channels: list, z_levels: list, tasks: Executor | None = None
) -> np.ndarray:
    """A field's (c, z, y, x) stack from its manifest rows (every plane must be there).

    With ``tasks``, each plane is decoded as a task there, on one thread each (tifffile's
    own strip threads on top made the benchmark's ingest slower on 2 cores); without,
    in this thread, with tifffile's threads.
    """
    where = {
        (ch, z): (path, int(page))
        for ch, z, path, page in zip(
            planes["channel"], planes["z"], planes["path"], planes["page"], strict=True
        )
    }
    stack = np.empty(
        (len(channels), len(z_levels), *map(int, planes["shape"].iloc[0].split("x"))),
        dtype=planes["dtype"].iloc[0],
    )
    order = [
        (ci, zi, *where[(ch, z)]) for ci, ch in enumerate(channels) for zi, z in enumerate(z_levels)
    ]
    if tasks is None:
        for ci, zi, path, page in order:
            stack[ci, zi] = _finite(read_plane(path, page), path)
        return stack
    futures = [tasks.submit(read_plane, path, page, 1) for _, _, path, page in order]
    try:
        for (ci, zi, path, _), future in zip(order, futures, strict=True):
            stack[ci, zi] = _finite(future.result(), path)
    finally:
        for future in futures:
            future.cancel()
    return stack


def _ingest_field(
    item: tuple[tuple, pd.DataFrame],
    *,
    root,
    partial: Path,
    stamp: str,
    channels: list,
    z_levels: list,
    acquisition: Acquisition,
    on_bad_file: str,
    pyramid_levels: int,
    tasks: Executor | None,
) -> tuple[tuple, dict | None]:
    """Read and write one field (unless done already): ``((well, site), QC row or None)``."""
    (plate, well, row, column, site, field), planes = item
    stamp = field_stamp(stamp, planes)
    if is_done_whole(partial, row, column, field, stamp):
        return (well, site), None
    try:
        stack = _read_stack(planes, channels, z_levels, tasks)
    except InputError as err:
        if on_bad_file == "error":
            raise
        return (well, site), dict(
            plate=plate, well=well, site=site, path=err.where, problem=err.problem
        )
    clear_field(partial, row, column, field)
    write_field(
        root,
        row,
        column,
        field,
        stack,
        acquisition,
        channels,
        pyramid_levels=pyramid_levels,
        executor=tasks,
        extra_attrs={
            "z_indices": [int(z) for z in z_levels],
            "channels": [int(c) for c in channels],
            "well": well,
            "site": int(site),
        },
    )
    mark_done(partial, row, column, field, stamp)
    return (well, site), None


def ingest_stamp(good: pd.DataFrame, acquisition: Acquisition, pyramid_levels: int) -> str:
    """What an ingested field is made from: the whole plate's file list and settings."""
    files = good[["path", "well", "site", "channel", "z", "shape", "dtype"]].astype(str)
    return stamp_of(files.values.tolist(), asdict(acquisition), pyramid_levels)


def field_stamp(plate_stamp: str, planes: pd.DataFrame) -> str:
    """What one field is made from: the plate's stamp and each of its files' size and
    modification time (a file edited or replaced between a kill and the rerun makes its
    field be read again; a content hash would cost a second read of every file)."""
    files = []
    for path in sorted(set(planes["path"])):
        try:
            info = os.stat(path)
        except OSError:  # a plate used in place, or a file gone: its read will say so
            files.append((path, None, None))
            continue
        files.append((path, info.st_size, info.st_mtime_ns))
    return stamp_of(plate_stamp, files)


def finalise_ingest(ingested: pd.DataFrame, out_path: str | os.PathLike, stamp: str) -> None:
    """Write the well and plate metadata of a partial plate and rename it into place.

    ``ingested`` is the concatenated manifest of every :func:`ingest_fields` call and
    ``stamp`` the plate's :func:`ingest_stamp`.

    Raises
    ------
    InputError
        When no field was ingested, or a listed field is not marked done.
    """
    if ingested.empty:
        raise InputError(out_path, "no field left to ingest: every field has a bad file")
    partial = partial_path(out_path)
    groups = ingested.groupby(["row", "column", "field"], sort=False)
    require_done(
        partial,
        [
            (row, column, field, f"{part['well'].iloc[0]} site {part['site'].iloc[0]}")
            for (row, column, field), part in groups
        ],
        {key: field_stamp(stamp, part) for key, part in groups},
    )
    root = open_plate(partial, mode="r+")
    for (row, column), planes in ingested.groupby(["row", "column"], sort=False):
        write_well(root, row, int(column), sorted(int(f) for f in planes["field"].unique()))
    write_plate(
        root,
        ingested["plate"].iloc[0],
        list(dict.fromkeys(zip(ingested["row"], ingested["column"].astype(int), strict=True))),
        int(ingested.groupby("well")["site"].nunique().max()),
    )
    publish(partial, out_path)


def ingest_plate(
    manifest: pd.DataFrame,
    out_path: str | os.PathLike,
    acquisition: Acquisition,
    *,
    on_bad_file: str = "error",
    workers: int = 1,
    pyramid_levels: int = 2,
    progress: bool = True,
) -> IngestResult:
    """Write the planes of a manifest as an OME-Zarr HCS plate at ``out_path``, in one go.

    :func:`prepare_ingest`, :func:`ingest_fields` over every well, :func:`finalise_ingest`.
    The plate is assembled in ``.<name>.partial`` and renamed at the end; an interrupted
    call, run again, writes only the fields not yet done.

    Raises
    ------
    InputError
        On the first bad file with ``on_bad_file="error"``; when no field is left with
        ``"skip"``.
    """
    from platefocus.io.writer_lock import writer_lock

    good, problems = prepare_ingest(manifest, on_bad_file, workers)
    with writer_lock(out_path):  # one writer: a second ingest into it is refused
        try:
            result = ingest_fields(
                good,
                out_path,
                acquisition,
                on_bad_file=on_bad_file,
                workers=workers,
                pyramid_levels=pyramid_levels,
                progress=progress,
            )
            stamp = ingest_stamp(good, acquisition, pyramid_levels)
            finalise_ingest(result.manifest, out_path, stamp)
        except InputError:
            # Bad data, not an interruption: nothing of this plate is worth resuming.
            shutil.rmtree(partial_path(out_path), ignore_errors=True)
            raise
    qc = pd.concat([problems, result.qc], ignore_index=True)
    return IngestResult(result.manifest, qc)
