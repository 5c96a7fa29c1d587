"""One field's restoration in three steps (read, infer, write) and the model they share.

A field is read (and, for a GPU, made ready in page-locked memory), restored on the
device, and written with its done marker. :func:`restore_field` runs the three in one
thread (a Dask task); :mod:`platefocus.restore.stream` runs them as a pipeline, reading
ahead and writing behind one inference thread. The model is loaded, prepared and its
batch size resolved once per process (:func:`restoring_model`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np
import torch

from platefocus.io.fields import FieldRef, field_array, read_field_channel
from platefocus.io.omezarr import Acquisition, open_plate, write_field
from platefocus.io.partial import clear_field, mark_done
from platefocus.model_io.checkpoint import load_model
from platefocus.model_io.metadata import ModelInfo
from platefocus.models.registry import takes_offset
from platefocus.restore.backends import with_backend
from platefocus.restore.batching import choose_batch_size, prepare_model
from platefocus.restore.device import (
    DeviceInput,
    PendingPlanes,
    fits_on_device,
    launch_on_device,
    prepare_input,
)
from platefocus.restore.graphs import with_cuda_graphs
from platefocus.restore.inference import restore_planes
from platefocus.restore.projection import operator_kernels, project_planes
from platefocus.restore.selective import planes_to_restore
from platefocus.restore.settings import RestoreConfig
from platefocus.restore.tiling import plan_tiles


@functools.lru_cache(maxsize=4)
def restoring_model(
    checkpoint: str, device: str, config: RestoreConfig, most_tiles: int | None = None
) -> tuple[torch.nn.Module, ModelInfo, RestoreConfig]:
    """The model prepared as ``config`` asks (channels-last, compiled, CUDA graphs), once
    per process, and ``config`` with its batch size resolved (``"auto"``: the fastest on
    the device, up to ``most_tiles``, the most tiles of one field)."""
    model, info = load_model(checkpoint, device)
    model = prepare_model(model, config)
    context = info.context_planes
    batch = choose_batch_size(model, config, 1 + 2 * context, torch.device(device), most_tiles)
    model = with_backend(
        model, config.backend, batch, torch.device(device), config.uses_bf16(device)
    )
    # graphs after the batch probe: each shape tried would otherwise keep its own graph
    model = with_cuda_graphs(model, config, torch.device(device))
    return model, info, replace(config, batch_size=batch)


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


def read_field(job: FieldJob, prepare: bool = False) -> FieldData:
    """Read the field's channel; with ``prepare`` (a GPU), also its device input
    (float32 in page-locked memory) when the planes fit the device path."""
    ref = job.ref
    stack = read_field_channel(job.plate_in, ref, ref.channels.index(job.channel))
    restore_at, _, _ = job.planes()
    if not (prepare and restore_at and fits_on_device(stack.shape[1:], job.config)):
        return FieldData(stack)
    planes = [job.positions[i] for i in restore_at]
    context = load_model(job.checkpoint, job.device)[1].context_planes
    return FieldData(stack, prepare_input(stack, planes, context, pin=True))


def infer_field(job: FieldJob, data: FieldData) -> PendingPlanes | np.ndarray | None:
    """The restored planes of a field (``None`` when every plane is copied): queued on the
    device without waiting when the reader prepared them, else computed here."""
    restore_at, _, _ = job.planes()
    if not restore_at:
        return None
    model, info, config = restoring_model(job.checkpoint, job.device, job.config, job.most_tiles)
    if data.prepared is not None and not takes_offset(model):
        return launch_on_device(model, data.prepared, config, job.device)
    planes = [job.positions[i] for i in restore_at]
    context = info.context_planes
    offsets = [job.dz[i] for i in restore_at]
    return restore_planes(model, data.stack, planes, config, job.device, context, offsets)


def write_restored(
    job: FieldJob, data: FieldData, restored: PendingPlanes | np.ndarray | None
) -> str:
    """Assemble the field's output (restored and copied planes), write it, mark it done."""
    ref, stack = job.ref, data.stack
    restore_at, copy_at, wanted = job.planes()
    out = np.zeros((len(job.positions), *stack.shape[1:]), dtype=stack.dtype)
    if restore_at:
        out[restore_at] = restored.numpy() if isinstance(restored, PendingPlanes) else restored
        if job.config.operator:  # restore.projection: consistent with the observation
            observed = stack[[job.positions[i] for i in restore_at]]
            out[restore_at] = project_planes(
                observed,
                out[restore_at],
                [job.dz[i] for i in restore_at],
                operator_kernels(job.config.operator),
                job.config.projection_regularisation,
            )
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


def most_tiles(jobs: list[FieldJob], config: RestoreConfig) -> int:
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
