"""Restore a whole plate, field by field, from OME-Zarr to OME-Zarr; resumable.

The output is built in ``.<name>.partial`` beside the final path. Each field is written
and then marked done (a marker file written after its arrays); a rerun skips marked
fields. Only when every field is done are the well and plate metadata written and the
folder renamed into place, so a kill at any moment leaves nothing that looks complete.

Fields are Dask tasks: the threaded scheduler by default (threads overlap reading,
normalising and writing one field with inference on another) or a cluster (config section
``dask``, see :mod:`platefocus.parallel`). The model is loaded once per process.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import dask
import numpy as np
import pandas as pd
import torch

from platefocus.errors import InputError
from platefocus.io.atomic import file_sha256
from platefocus.io.fields import FieldRef, field_array, list_fields, read_field_channel
from platefocus.io.omezarr import (
    Acquisition,
    open_plate,
    require_wells,
    write_field,
    write_plate,
    write_platefocus_attrs,
    write_well,
)
from platefocus.io.partial import (
    clear_field,
    is_done,
    mark_done,
    partial_path,
    publish,
    require_done,
    stamp_of,
)
from platefocus.parallel import compute
from platefocus.restore.batching import choose_batch_size, prepare_model
from platefocus.restore.device import (
    DeviceInput,
    PendingPlanes,
    fits_on_device,
    launch_on_device,
    prepare_input,
)
from platefocus.restore.inference import restore_planes
from platefocus.restore.planes import PlaneSelection
from platefocus.restore.selective import (
    DefocusCalibration,
    estimated_defocus_um,
    planes_to_restore,
)
from platefocus.restore.settings import RestoreConfig
from platefocus.restore.stream import stream
from platefocus.restore.tiling import plan_tiles
from platefocus.train.checkpoint import choose_device, load_checkpoint

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4)
def cached_model(checkpoint: str, device: str) -> tuple[torch.nn.Module, dict]:
    """The checkpoint's model, loaded once per process and device."""
    return load_checkpoint(checkpoint, device)


@functools.lru_cache(maxsize=4)
def restoring_model(
    checkpoint: str, device: str, config: RestoreConfig, most_tiles: int | None = None
) -> tuple[torch.nn.Module, dict, RestoreConfig]:
    """The model prepared as ``config`` asks (channels-last, compiled), once per process,
    and ``config`` with its batch size resolved (``"auto"``: the fastest on the device,
    up to ``most_tiles``, the most tiles of one field)."""
    model, state = cached_model(checkpoint, device)
    model = prepare_model(model, config)
    context = int(state.get("dataset", {}).get("context_planes", 0))
    batch = choose_batch_size(model, config, 1 + 2 * context, torch.device(device), most_tiles)
    return model, state, replace(config, batch_size=batch)


def _stamp(metadata: dict, selection: PlaneSelection) -> str:
    """What a restored field is made from: checkpoint, settings and plane selection."""
    return stamp_of(metadata, asdict(selection))


@dataclass(frozen=True)
class FieldJob:
    """Everything one field's restoration needs (picklable, for Dask workers).

    ``defocus_um``: each plane's estimated distance from focus; with
    ``config.skip_within_um``, planes within it are copied from the input."""

    plate_in: str
    partial: str
    ref: FieldRef
    channel: int
    positions: list[int | None]
    dz: list[int | None]
    checkpoint: str
    config: RestoreConfig
    device: str
    acquisition: Acquisition
    metadata: dict
    stamp: str
    defocus_um: list[float | None]
    most_tiles: int | None = None  # of any field of the plate, for batch_size "auto"

    def planes(self) -> tuple[list[int], list[int], list[bool]]:
        """``(restore_at, copy_at, wanted)``: output positions restored and copied."""
        wanted = planes_to_restore(self.defocus_um, self.config.skip_within_um)
        present = [i for i, p in enumerate(self.positions) if p is not None]
        return [i for i in present if wanted[i]], [i for i in present if not wanted[i]], wanted


@dataclass
class FieldData:
    """A field's stack as read, and its device input when prepared by a reader."""

    stack: np.ndarray
    prepared: DeviceInput | None = None


def _context_planes(job: FieldJob) -> int:
    _, state = cached_model(job.checkpoint, job.device)
    return int(state.get("dataset", {}).get("context_planes", 0))


def read_field(job: FieldJob, prepare: bool = False) -> FieldData:
    """Read the field's channel; with ``prepare`` (a GPU), also its device input
    (float32 in page-locked memory) when the planes fit the device path."""
    ref = job.ref
    stack = read_field_channel(job.plate_in, ref, ref.channels.index(job.channel))
    restore_at, _, _ = job.planes()
    if not (prepare and restore_at and fits_on_device(stack.shape[1:], job.config)):
        return FieldData(stack)
    planes = [job.positions[i] for i in restore_at]
    return FieldData(stack, prepare_input(stack, planes, _context_planes(job), pin=True))


def infer_field(job: FieldJob, data: FieldData) -> PendingPlanes | np.ndarray | None:
    """The restored planes of a field (``None`` when every plane is copied): queued on the
    device without waiting when the reader prepared them, else computed here."""
    restore_at, _, _ = job.planes()
    if not restore_at:
        return None
    model, state, config = restoring_model(job.checkpoint, job.device, job.config, job.most_tiles)
    if data.prepared is not None:
        return launch_on_device(model, data.prepared, config, job.device)
    planes = [job.positions[i] for i in restore_at]
    context = int(state.get("dataset", {}).get("context_planes", 0))
    return restore_planes(model, data.stack, planes, config, job.device, context)


def write_restored(
    job: FieldJob, data: FieldData, restored: PendingPlanes | np.ndarray | None
) -> str:
    """Assemble the field's output (restored and copied planes), write it, mark it done."""
    ref, stack = job.ref, data.stack
    restore_at, copy_at, wanted = job.planes()
    out = np.zeros((len(job.positions), *stack.shape[1:]), dtype=stack.dtype)
    if restore_at:
        out[restore_at] = restored.numpy() if isinstance(restored, PendingPlanes) else restored
    for i in copy_at:
        out[i] = stack[job.positions[i]]
    clear_field(job.partial, ref.row, ref.column, ref.field)
    root = open_plate(job.partial, mode="r+")
    attrs = {
        **job.metadata,
        "well": ref.well,
        "site": ref.site,
        "source_z": [None if p is None else ref.z_indices[p] for p in job.positions],
        "dz": job.dz,
        "missing": [p is None for p in job.positions],
        "restored": [p is not None and w for p, w in zip(job.positions, wanted, strict=True)],
        "estimated_defocus_um": [None if d is None else round(d, 3) for d in job.defocus_um],
    }
    write_field(
        root,
        ref.row,
        ref.column,
        ref.field,
        out[None],
        job.acquisition,
        [job.channel],
        pyramid_levels=job.metadata["pyramid_levels"],
        extra_attrs=attrs,
    )
    mark_done(job.partial, ref.row, ref.column, ref.field, job.stamp)
    return ref.path


def restore_field(job: FieldJob) -> str:
    """Read, restore and write one field (then its done marker), in this thread."""
    data = read_field(job)
    return write_restored(job, data, infer_field(job, data))


def _most_tiles(jobs: list[FieldJob], config: RestoreConfig) -> int:
    """The most tiles one model call gets: restored planes x tiles per plane, over fields."""
    shape = field_array(jobs[0].plate_in, jobs[0].ref).shape[-2:]
    per_plane = len(plan_tiles(tuple(shape), config.tile, config.overlap).starts)
    return per_plane * max(len(job.planes()[0]) for job in jobs)


def streams(config: RestoreConfig, device: str, dask_settings: dict | None) -> bool:
    """Whether fields go through the read-ahead / write-behind pipeline
    (:mod:`platefocus.restore.stream`) rather than as Dask tasks: ``config.prefetch``,
    where ``"auto"`` means on a GPU; never with a Dask cluster (fields are its tasks)."""
    settings = dask_settings or {}
    if settings.get("scheduler_address") or settings.get("jobqueue"):
        return False
    if config.prefetch == "auto":
        return torch.device(device).type == "cuda"
    return bool(config.prefetch)


def _metadata(
    checkpoint, config: RestoreConfig, channel: int, pyramid_levels: int, device: str
) -> dict:
    _, state = cached_model(str(checkpoint), device)
    return {
        "model": state["model"],
        "model_kwargs": state["model_kwargs"],
        "checkpoint_sha256": file_sha256(checkpoint),
        # where the model comes from, so that a screen's restored plates can be traced
        "provenance": {
            "trained_on": state.get("dataset", {}).get("plates"),
            # restored with a bioimage.io package: the checkpoint it was exported from
            "exported_from_sha256": state.get("checkpoint_sha256"),
            "dataset": state.get("dataset", {}),
            "training": state.get("config", {}),
            "epoch": state.get("epoch"),
        },
        "normalisation": {"percentiles": list(config.percentiles), "per": "plane"},
        "restore": asdict(config),
        "channel": channel,
        "pyramid_levels": pyramid_levels,
    }


def restore_fields(
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
    wells: Sequence[str] | None = None,
    progress: bool = True,
    calibration: DefocusCalibration | None = None,
    plane_scores: pd.DataFrame | None = None,
) -> dict:
    """Restore the fields of ``wells`` (default: all) into the partial output plate.

    Several calls (Snakemake jobs) may work on disjoint wells of one plate at once; each
    field is marked done after it is written. :func:`finalise_plate` completes the plate.
    ``config.skip_within_um``: planes that close to focus are copied (``calibration`` and
    ``plane_scores`` judge single planes; :mod:`platefocus.restore.selective`).
    """
    partial = partial_path(out_path)
    dev = str(choose_device(device))
    refs = [r for r in list_fields(manifest) if channel in r.channels]
    if not refs:
        raise InputError("restore.channel", f"no field has channel {channel}")
    selection.check_planes(refs)
    if wells is not None:
        refs = [r for r in refs if r.well in set(wells)]
    # Loads the model: a checkpoint that does not fit fails before anything is written.
    metadata = _metadata(checkpoint, config, channel, pyramid_levels, dev)
    # Idempotent, so jobs restoring other wells of the plate can start at the same time.
    require_wells(partial, [(r.row, r.column) for r in refs])
    (partial / ".done").mkdir(exist_ok=True)
    stamp = _stamp(metadata, selection)
    best_of, refined_of = _best_planes(best, channel)
    sharpness_of = _plane_sharpness(plane_scores, channel, calibration)
    todo, skipped, copied, planes = [], 0, 0, 0
    for ref in refs:
        if is_done(partial, ref.row, ref.column, ref.field, stamp):
            skipped += 1
            continue
        key = (ref.well, ref.site)
        positions, dz = selection.positions(ref, best_of.get(key))
        defocus = _field_defocus(
            ref, positions, refined_of.get(key), sharpness_of.get(key, {}), acquisition, calibration
        )
        n_planes, n_copied = _copied_planes(positions, defocus, config.skip_within_um)
        planes, copied = planes + n_planes, copied + n_copied
        if positions:
            todo.append(
                FieldJob(
                    str(plate_in),
                    str(partial),
                    ref,
                    channel,
                    positions,
                    dz,
                    str(checkpoint),
                    config,
                    dev,
                    acquisition,
                    metadata,
                    stamp,
                    defocus,
                )
            )
    if todo:
        most = _most_tiles(todo, config)
        todo = [replace(job, most_tiles=most) for job in todo]
    log.info("restoring %d fields (%d already done) on %s", len(todo), skipped, dev)
    if config.skip_within_um is not None:
        log.info(
            "selective: %d of %d planes within %.2f um of focus are copied, not restored",
            *(copied, planes, config.skip_within_um),
        )
    if streams(config, dev, dask_settings):
        # load the model and resolve the batch size once, on the thread that owns the device
        restoring_model(str(checkpoint), dev, config, todo[0].most_tiles if todo else None)
        stream(
            todo,
            functools.partial(read_field, prepare=torch.device(dev).type == "cuda"),
            infer_field,
            write_restored,
            readers=workers,
            writers=workers,
            depth=2 * max(1, workers),
            progress=progress,
        )
    else:
        compute(
            [dask.delayed(restore_field)(job) for job in todo], workers, dask_settings, progress
        )
    return {"computed": len(todo), "skipped": skipped, "fields": len(refs)}


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
    checkpoint: str | os.PathLike,
    out_path: str | os.PathLike,
    config: RestoreConfig,
    selection: PlaneSelection,
    channel: int = 1,
    pyramid_levels: int = 1,
) -> None:
    """Write the well and plate metadata of a fully restored partial plate, rename it.

    Raises
    ------
    InputError
        Some field is not restored yet.
    """
    out = Path(out_path)
    partial = partial_path(out)
    refs = [r for r in list_fields(manifest) if channel in r.channels]
    metadata = _metadata(checkpoint, config, channel, pyramid_levels, "cpu")
    require_done(
        partial,
        [(r.row, r.column, r.field, f"{r.well} site {r.site}") for r in refs],
        _stamp(metadata, selection),
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
    """Restore every field of a plate into a new OME-Zarr HCS plate at ``out_path``.

    Returns
    -------
    dict
        ``computed`` (fields restored by this call), ``skipped`` (already done by an
        earlier, interrupted call) and ``fields`` (total).
    """
    if Path(out_path).exists():
        raise InputError(out_path, "output exists already; remove it to restore again")
    result = restore_fields(
        plate_in,
        manifest,
        checkpoint,
        out_path,
        selection,
        config,
        acquisition,
        best=best,
        channel=channel,
        device=device,
        workers=workers,
        dask_settings=dask_settings,
        pyramid_levels=pyramid_levels,
        progress=progress,
        calibration=calibration,
        plane_scores=plane_scores,
    )
    finalise_plate(manifest, checkpoint, out_path, config, selection, channel, pyramid_levels)
    return result
