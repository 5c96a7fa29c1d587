"""Restore a whole plate, field by field, from OME-Zarr to OME-Zarr; resumable.

The output is built in ``.<name>.partial`` beside the final path. Each field is written
and then marked done (a marker file written after its arrays); a rerun skips marked
fields. Only when every field is done are the well and plate metadata written and the
folder renamed into place, so a kill at any moment leaves nothing that looks complete.

On a CPU, fields are Dask tasks: the threaded scheduler by default (threads overlap
reading, normalising and writing one field with inference on another) or a cluster (config
section ``dask``, see :mod:`platefocus.parallel`). On a GPU (``restore.prefetch``) they
stream through one inference thread, read ahead and written behind
(:mod:`platefocus.restore.stream`). The model is loaded once per process
(:mod:`platefocus.restore.field`).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

import dask
import pandas as pd
import torch

from platefocus.errors import InputError
from platefocus.io.fields import FieldRef, list_fields
from platefocus.io.omezarr import (
    Acquisition,
    open_plate,
    require_wells,
    write_plate,
    write_platefocus_attrs,
    write_well,
)
from platefocus.io.partial import (
    is_done_whole,
    partial_path,
    publish,
    require_done,
    stamp_of,
)
from platefocus.model_io.checkpoint import choose_device, load_model, read_model_info
from platefocus.parallel import compute
from platefocus.restore.field import (
    FieldJob,
    infer_field,
    most_tiles,
    read_field,
    restore_field,
    restoring_model,
    streams,
    write_restored,
)
from platefocus.restore.job import RestoreJob
from platefocus.restore.planes import PlaneSelection
from platefocus.restore.selective import (
    DefocusCalibration,
    estimated_defocus_um,
    planes_to_restore,
)
from platefocus.restore.settings import RestoreConfig
from platefocus.restore.stream import stream

log = logging.getLogger(__name__)


def _stamp(metadata: dict, selection: PlaneSelection) -> str:
    """What a restored plate is made from: checkpoint, settings and plane selection."""
    return stamp_of(metadata, asdict(selection))


def field_stamp(plate_stamp: str, plate_in: str | os.PathLike, ref) -> str:
    """What one restored field is made from: the plate's stamp and its input field's
    metadata files (size, modification time), which an ingest that rewrites the field
    writes anew; a field re-ingested between a kill and the rerun is restored again."""
    group = Path(plate_in) / ref.path
    files = []
    for path in [group / "zarr.json", *sorted(group.glob("*/zarr.json"))]:
        try:
            info = path.stat()
        except OSError:
            continue
        files.append((path.relative_to(group).as_posix(), info.st_size, info.st_mtime_ns))
    return stamp_of(plate_stamp, files)


def _metadata(checkpoint, config: RestoreConfig, channel: int, pyramid_levels: int) -> dict:
    return {
        **read_model_info(checkpoint).provenance(),
        "normalisation": {"percentiles": list(config.percentiles), "per": "plane"},
        "restore": asdict(config),
        "channel": channel,
        "pyramid_levels": pyramid_levels,
    }


def restore_fields(
    plate_in: str | os.PathLike,
    manifest: pd.DataFrame,
    out_path: str | os.PathLike,
    job: RestoreJob,
    wells: Sequence[str] | None = None,
) -> dict:
    """Restore the fields of ``wells`` (default: all) into the partial output plate.

    Several calls (Snakemake jobs) may work on disjoint wells of one plate at once; each
    field is marked done after it is written. :func:`finalise_plate` completes the plate.
    ``config.skip_within_um``: planes that close to focus are copied (``calibration`` and
    ``plane_scores`` judge single planes; :mod:`platefocus.restore.selective`).
    """
    checkpoint, selection, config, channel = job.checkpoint, job.selection, job.config, job.channel
    if job.acquisition is None:
        raise ValueError("restoring fields needs the plate's acquisition (RestoreJob)")
    partial = partial_path(out_path)
    dev = str(choose_device(job.device, key="restore.device"))
    refs = [r for r in list_fields(manifest) if channel in r.channels]
    if not refs:
        raise InputError("restore.channel", f"no field has channel {channel}")
    selection.check_planes(refs)
    if wells is not None:
        refs = [r for r in refs if r.well in set(wells)]
    # A checkpoint that does not fit its architecture fails before anything is written.
    load_model(checkpoint, dev)
    metadata = _metadata(checkpoint, config, channel, job.pyramid_levels)
    # Idempotent, so jobs restoring other wells of the plate can start at the same time.
    require_wells(partial, [(r.row, r.column) for r in refs])
    (partial / ".done").mkdir(exist_ok=True)
    plate_stamp = _stamp(metadata, selection)
    best_of, refined_of = _best_planes(job.best, channel)
    sharpness_of = _plane_sharpness(job.plane_scores, channel, job.calibration)
    todo, skipped, copied, planes = [], 0, 0, 0
    for ref in refs:
        stamp = field_stamp(plate_stamp, plate_in, ref)
        if is_done_whole(partial, ref.row, ref.column, ref.field, stamp):
            skipped += 1
            continue
        key = (ref.well, ref.site)
        positions, dz = selection.positions(ref, best_of.get(key))
        defocus = _field_defocus(
            *(ref, positions, refined_of.get(key), sharpness_of.get(key, {})),
            *(job.acquisition, job.calibration),
        )
        n_planes, n_copied = _copied_planes(positions, defocus, config.skip_within_um)
        planes, copied = planes + n_planes, copied + n_copied
        if positions:
            todo.append(
                FieldJob(
                    *(str(plate_in), str(partial), ref, channel, positions, dz),
                    *(str(checkpoint), config, dev, job.acquisition, metadata, stamp, defocus),
                )
            )
    log.info("restoring %d fields (%d already done) on %s", len(todo), skipped, dev)
    if config.skip_within_um is not None:
        log.info(
            "selective: %d of %d planes within %.2f um of focus are copied, not restored",
            *(copied, planes, config.skip_within_um),
        )
    _run(todo, str(checkpoint), dev, config, job.workers, job.dask_settings, job.progress)
    return {"computed": len(todo), "skipped": skipped, "fields": len(refs)}


def _run(
    jobs: list[FieldJob],
    checkpoint: str,
    device: str,
    config: RestoreConfig,
    workers: int,
    dask_settings: dict | None,
    progress: bool,
) -> None:
    """Restore the fields: streamed around one inference thread, or as Dask tasks."""
    if not jobs:
        return
    most = most_tiles(jobs, config)  # for batch_size "auto": no batch beyond a field's tiles
    jobs = [replace(job, most_tiles=most) for job in jobs]
    if not streams(config, device, dask_settings):
        compute(
            [dask.delayed(restore_field)(job) for job in jobs], workers, dask_settings, progress
        )
        return
    # load the model and resolve the batch size once, on the thread that owns the device
    restoring_model(checkpoint, device, config, most)
    spent: dict = {}
    stream(
        jobs,
        functools.partial(read_field, prepare=torch.device(device).type == "cuda"),
        infer_field,
        write_restored,
        readers=workers,
        writers=workers,
        depth=2 * max(1, workers),
        progress=progress,
        stats=spent,
    )
    log.info(
        "restored %d fields in %.2f s; the inference thread waited %.2f s for reads and "
        "%.2f s for writes, and spent %.2f s in inference",
        len(jobs),
        spent["wall"],
        spent["read_wait"],
        spent["write_wait"],
        spent["infer"],
    )


def _field_defocus(
    ref: FieldRef,
    positions: list[int | None],
    best_z_refined: float | None,
    sharpness: dict[int, float],
    acquisition: Acquisition,
    calibration: DefocusCalibration | None,
) -> list[float | None]:
    """Estimated distance from focus (um) of each plane a field restores."""
    return estimated_defocus_um(
        [None if p is None else ref.z_indices[p] for p in positions],
        best_z_refined,
        sharpness,
        acquisition.z_step_um,
        calibration,
        single_plane=len(ref.z_indices) == 1,
    )


def _copied_planes(
    positions: list[int | None], defocus_um: list[float | None], skip_within_um: float | None
) -> tuple[int, int]:
    """``(planes, copied)``: a field's planes, and those selective restoration copies."""
    wanted = planes_to_restore(defocus_um, skip_within_um)
    present = [w for p, w in zip(positions, wanted, strict=True) if p is not None]
    return len(present), present.count(False)


def _best_planes(best: pd.DataFrame | None, channel: int) -> tuple[dict, dict]:
    """``(best_z, best_z_refined)`` per (well, site) of the focus table's field rows."""
    if best is None:
        return {}, {}
    rows = best[(best["region"] == "field") & (best["channel"] == channel)]
    keys = list(zip(rows["well"], rows["site"], strict=True))
    refined = rows["best_z_refined"] if "best_z_refined" in rows else rows["best_z"]
    return (
        dict(zip(keys, (int(z) for z in rows["best_z"]), strict=True)),
        dict(zip(keys, (float(z) for z in refined), strict=True)),
    )


def _plane_sharpness(
    plane_scores: pd.DataFrame | None, channel: int, calibration: DefocusCalibration | None
) -> dict:
    """{(well, site): {z: metric}} of the whole fields, in the calibration's metric."""
    if plane_scores is None or calibration is None:
        return {}
    rows = plane_scores[(plane_scores["region"] == "field") & (plane_scores["channel"] == channel)]
    out: dict = {}
    for well, site, z, value in zip(
        rows["well"], rows["site"], rows["z"], rows[calibration.metric], strict=True
    ):
        out.setdefault((well, site), {})[int(z)] = float(value)
    return out


def finalise_plate(
    manifest: pd.DataFrame,
    out_path: str | os.PathLike,
    job: RestoreJob,
    *,
    plate_in: str | os.PathLike,
) -> None:
    """Write the well and plate metadata of a fully restored partial plate, rename it.
    ``plate_in``: the input plate, whose fields' metadata are part of each field's stamp
    (:func:`field_stamp`).

    Raises
    ------
    InputError
        Some field is not restored yet.
    """
    out = Path(out_path)
    partial = partial_path(out)
    refs = [r for r in list_fields(manifest) if job.channel in r.channels]
    metadata = _metadata(job.checkpoint, job.config, job.channel, job.pyramid_levels)
    plate_stamp = _stamp(metadata, job.selection)
    require_done(
        partial,
        [(r.row, r.column, r.field, f"{r.well} site {r.site}") for r in refs],
        {(r.row, r.column, r.field): field_stamp(plate_stamp, plate_in, r) for r in refs},
    )
    root = open_plate(partial, mode="r+")
    wells = list(dict.fromkeys((r.row, r.column) for r in refs))
    for row, column in wells:
        write_well(
            root, row, column, sorted(r.field for r in refs if (r.row, r.column) == (row, column))
        )
    write_plate(
        root,
        refs[0].plate,
        wells,
        max(len({r.field for r in refs if (r.row, r.column) == w}) for w in wells),
    )
    write_platefocus_attrs(
        root,
        {
            k: metadata[k]
            for k in ("model", "checkpoint_sha256", "provenance", "normalisation", "restore")
        },
    )
    publish(partial, out)


def restore_plate(
    plate_in: str | os.PathLike,
    manifest: pd.DataFrame,
    checkpoint: str | os.PathLike,
    out_path: str | os.PathLike,
    selection: PlaneSelection,
    config: RestoreConfig,
    acquisition: Acquisition,
    best: pd.DataFrame | None = None,
    channel: int = 1,
    device: str = "auto",
    workers: int = 1,
    dask_settings: dict | None = None,
    pyramid_levels: int = 1,
    progress: bool = True,
    calibration: DefocusCalibration | None = None,
    plane_scores: pd.DataFrame | None = None,
) -> dict:
    """Restore every field of a plate into a new OME-Zarr HCS plate at ``out_path``
    (the arguments are those of :class:`platefocus.restore.job.RestoreJob`).

    Returns
    -------
    dict
        ``computed`` (fields restored by this call), ``skipped`` (already done by an
        earlier, interrupted call) and ``fields`` (total).
    """
    from platefocus.io.writer_lock import writer_lock

    with writer_lock(out_path):
        if Path(out_path).exists():
            raise InputError(out_path, "output exists already; remove it to restore again")
        job = RestoreJob(
            str(checkpoint),
            selection,
            config,
            acquisition,
            channel=channel,
            pyramid_levels=pyramid_levels,
            best=best,
            calibration=calibration,
            plane_scores=plane_scores,
            device=device,
            workers=workers,
            dask_settings=dask_settings,
            progress=progress,
        )
        result = restore_fields(plate_in, manifest, out_path, job)
        finalise_plate(manifest, out_path, job, plate_in=plate_in)
    return result
