"""Rules of ``workflow/rules/restore.smk``: restore blocks of wells into a partial plate,
then complete it; and the whole-plate restore of the CLI."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pandas as pd

from platefocus.errors import InputError
from platefocus.io.blocks import block_wells
from platefocus.io.omezarr import Acquisition
from platefocus.pipeline.common import with_run_time

log = logging.getLogger(__name__)


def restore_wells(
    plate_path: str | Path,
    manifest_path: str | Path,
    checkpoint: str | Path,
    out_plate: str | Path,
    restore: dict,
    acquisition: dict,
    blocks_path: str | Path,
    block: int,
    out_marker: str | Path,
    best_path: str | Path | None = None,
    channel: int = 1,
    workers: int = 1,
    dask_settings: dict | None = None,
    scores_path: str | Path | None = None,
    calibration_scores_path: str | Path | None = None,
    calibration_best_path: str | Path | None = None,
    operator_path: str | Path | None = None,
    projection_regularisation: float | None = 1.0,
    run_time: dict | None = None,
) -> None:
    """Restore one block of a plate's wells into its partial output plate (one job).

    With ``restore.skip_within_um`` (selective restoration), the plate's plane scores
    (``scores_path``) and the training plate's focus curves (``calibration_*``) say which
    planes are within that distance of focus (:mod:`platefocus.restore.selective`).
    With ``restore.projection``, each restored plane is projected onto its observation
    with the defocus operator at ``operator_path`` (:mod:`platefocus.restore.projection`)."""
    restore = with_run_time(restore, run_time or {})  # threads, device, prefetch
    from platefocus.restore.plate import restore_fields
    from platefocus.restore.selective import learn_calibration

    wells = block_wells(blocks_path, block)
    calibration = None
    if restore.get("skip_within_um") is not None and calibration_scores_path:
        calibration = learn_calibration(
            pd.read_parquet(calibration_scores_path),
            pd.read_parquet(calibration_best_path),
            acquisition["z_step_um"],
            channel,
        )
        log.info(
            "selective restoration: %.2f um from focus <-> %.3f of the in-focus %s",
            restore["skip_within_um"],
            calibration.sharpness_at(restore["skip_within_um"]),
            calibration.metric,
        )
    job = _restore_job(
        restore,
        checkpoint,
        channel,
        operator_path,
        projection_regularisation,
        acquisition=Acquisition.from_config(acquisition),
        best=pd.read_parquet(best_path) if best_path else None,
        workers=workers,
        dask_settings=dask_settings,
        calibration=calibration,
        plane_scores=pd.read_parquet(scores_path) if scores_path else None,
    )
    result = restore_fields(plate_path, pd.read_parquet(manifest_path), out_plate, job, wells)
    Path(out_marker).write_text(f"wells {wells}: {result}\n")
    log.info(
        "block %d (%d wells): restored %d fields, %d already done",
        block,
        len(wells),
        result["computed"],
        result["skipped"],
    )


def restore_plate(
    manifest_path: str | Path,
    checkpoint: str | Path,
    out_plate: str | Path,
    restore: dict,
    channel: int = 1,
    operator_path: str | Path | None = None,
    projection_regularisation: float | None = 1.0,
    *,
    run_time: dict | None = None,
    plate_path: str | Path,
) -> None:
    """Complete a plate restored block by block: metadata, then rename into place
    (``operator_path`` and ``projection_regularisation`` as for :func:`restore_wells`)."""
    restore = with_run_time(restore, run_time or {})  # threads, device, prefetch
    from platefocus.restore.plate import finalise_plate

    job = _restore_job(restore, checkpoint, channel, operator_path, projection_regularisation)
    finalise_plate(pd.read_parquet(manifest_path), out_plate, job, plate_in=plate_path)


def _restore_job(
    restore: dict,
    checkpoint: str | Path,
    channel: int,
    operator_path: str | Path | None,
    projection_regularisation: float | None,
    acquisition: Acquisition | None = None,
    **run,
):
    """The job's :class:`platefocus.restore.job.RestoreJob`, built once from the
    ``restore`` section (result settings) and ``run`` (run-time ones and tables)."""
    from platefocus.restore.job import RestoreJob
    from platefocus.restore.planes import PlaneSelection

    return RestoreJob(
        str(checkpoint),
        PlaneSelection.from_config(restore["planes"]),
        _restore_config(restore, checkpoint, operator_path, projection_regularisation),
        acquisition,
        channel=channel,
        pyramid_levels=restore["pyramid_levels"],
        device=restore["device"],
        **run,
    )


def restore_ome_zarr(
    checkpoint: str | Path,
    input_plate: str | Path,
    output_plate: str | Path,
    planes: list[int] | None = None,
    channel: int = 1,
    tiling: dict | None = None,
    device: str = "auto",
    workers: int = 1,
    scheduler_address: str | None = None,
    offsets: list[int] | None = None,
    best_path: str | Path | None = None,
) -> dict:
    """Restore an ingested plate in one go (the CLI's ``restore``).

    ``planes``: plane indices to restore (default: every plane), or ``offsets`` from each
    field's best plane (planes; > 0 above focus) with ``best_path``, the plate's
    ``best_planes.parquet``; ``tiling``: any of ``tile``, ``overlap``, ``batch_size``
    (the rest keep :class:`RestoreConfig`'s defaults).
    """
    from platefocus.io.plate_input import read_plate_manifest
    from platefocus.model_io.checkpoint import choose_device, read_model_info
    from platefocus.restore.planes import PlaneSelection
    from platefocus.restore.plate import restore_plate as restore

    _tiling_config("--tile/--overlap/--batch-size", **(tiling or {}))  # fail before reading
    choose_device(device, key="--device")
    if offsets is not None and best_path is None:
        raise InputError("--offsets", "needs --best, the plate's best_planes.parquet")
    manifest, acquisition = read_plate_manifest(input_plate)
    best = None
    if offsets is not None:
        selection = PlaneSelection(mode="offsets", offsets=tuple(offsets))
        best = pd.read_parquet(best_path)
    elif planes is None:
        selection = PlaneSelection(mode="all")
    else:
        selection = PlaneSelection(mode="list", z=tuple(planes))
    config = _tiling_config(
        "--tile/--overlap/--batch-size",
        **(tiling or {}),
        percentiles=read_model_info(checkpoint).percentiles,
    )
    return restore(
        input_plate,
        manifest,
        checkpoint,
        output_plate,
        selection,
        config,
        acquisition,
        channel=channel,
        device=device,
        workers=workers,
        dask_settings={"scheduler_address": scheduler_address},
        best=best,
    )


def _restore_config(
    restore: dict,
    checkpoint: str | Path,
    operator_path: str | Path | None = None,
    projection_regularisation: float | None = 1.0,
):
    """Tiling from the ``restore`` section, normalisation from the checkpoint; with
    ``restore.projection``, the defocus operator restored planes are projected with."""
    from platefocus.model_io.checkpoint import read_model_info
    from platefocus.restore.settings import RestoreConfig

    if restore.get("projection") and not operator_path:
        raise InputError("restore.projection", "needs the training plate's defocus operator")
    try:
        config = RestoreConfig.from_config(restore, read_model_info(checkpoint).percentiles)
        if not restore.get("projection"):
            return config
        return dataclasses.replace(
            config,
            operator=str(operator_path),
            projection_regularisation=projection_regularisation,
        )
    except ValueError as err:
        if isinstance(err, InputError):
            raise
        raise InputError("restore", str(err)) from None


def _tiling_config(where: str, **settings):
    """A :class:`RestoreConfig`; settings out of range are an error naming ``where``."""
    from platefocus.restore.settings import RestoreConfig

    try:
        return RestoreConfig(**settings)
    except ValueError as err:
        raise InputError(where, str(err)) from None
