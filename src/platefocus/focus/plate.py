"""Focus scoring and target selection over a whole plate, one Dask task per field.

Fields are read lazily from the OME-Zarr plate; nothing holds more than the fields being
worked on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import dask
import numpy as np
import pandas as pd

from platefocus.focus.bestplane import GROUP, BestPlaneConfig, best_planes
from platefocus.focus.metrics import METRICS, score_stack, tile_grid
from platefocus.focus.targets import TargetConfig, select_field_targets
from platefocus.io.fields import FieldRef, list_fields, read_field_channel
from platefocus.parallel import compute
from platefocus.segment.nuclei import SegmentationConfig

log = logging.getLogger(__name__)


def score_field(
    plate_path: str | os.PathLike, ref: FieldRef, grid: Sequence[int], window: int
) -> pd.DataFrame:
    """Plane scores of every channel, plane and region of one field (one row each)."""
    frames = []
    for ci, channel in enumerate(ref.channels):
        s = score_stack(read_field_channel(plate_path, ref, ci), grid, window=window)
        n_z, n_r = s["focus_score"].shape
        frame = pd.DataFrame(
            {
                "plate": ref.plate,
                "well": ref.well,
                "row": ref.row,
                "column": ref.column,
                "site": ref.site,
                "field": ref.field,
                "channel": channel,
                "z": np.repeat(ref.z_indices, n_r),
                "region": np.tile(s["region"], n_z),
            }
        )
        for name in ("mean", "std", "saturated_fraction", *METRICS):
            frame[name] = s[name].ravel()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def score_plate(
    plate_path: str | os.PathLike,
    manifest: pd.DataFrame,
    grid: Sequence[int] = (2, 2),
    window: int = 20,
    workers: int = 1,
    progress: bool = True,
    dask_settings: dict | None = None,
) -> pd.DataFrame:
    """Plane scores of every field of a plate (see :func:`score_field`)."""
    refs = list_fields(manifest)
    tasks = [dask.delayed(score_field)(plate_path, r, tuple(grid), window) for r in refs]
    log.info("scoring %d fields with %d workers", len(refs), workers)
    return pd.concat(compute(tasks, workers, dask_settings, progress=progress), ignore_index=True)


def plate_best_planes(scores: pd.DataFrame, config: BestPlaneConfig) -> pd.DataFrame:
    """The best plane of every field, channel and region of a plate's ``scores``
    (:func:`platefocus.focus.bestplane.best_planes`), with each field's position columns
    (``plate, well, row, column, site, field``) in front."""
    position = scores[["plate", "well", "row", "column", "site", "field"]].drop_duplicates()
    return position.merge(best_planes(scores, config), on=["plate", "well", "site"])


def select_plate_targets(
    plate_path: str | os.PathLike,
    manifest: pd.DataFrame,
    best: pd.DataFrame,
    grid: Sequence[int],
    channel: int,
    segmentation: SegmentationConfig,
    config: TargetConfig,
    workers: int = 1,
    progress: bool = True,
    dask_settings: dict | None = None,
) -> pd.DataFrame:
    """Target verdict of every tile of every field, on one channel.

    Returns
    -------
    DataFrame
        The tile rows of ``best`` for ``channel`` joined with the verdict columns of
        :func:`platefocus.focus.targets.select_field_targets`.
    """
    refs = list_fields(manifest)
    tiles_best = best[(best["channel"] == channel) & (best["region"] != "field")]

    def one(ref: FieldRef) -> pd.DataFrame:
        if channel not in ref.channels:
            return pd.DataFrame()
        rows = tiles_best[(tiles_best["well"] == ref.well) & (tiles_best["site"] == ref.site)]
        rows = rows.assign(plane=[ref.z_indices.index(z) for z in rows["best_z"]])
        image = read_field_channel(plate_path, ref, ref.channels.index(channel))
        tiles = tile_grid(image.shape[1], image.shape[2], grid)
        verdict = select_field_targets(image, tiles, rows, segmentation, config)
        return rows.drop(columns="plane").merge(verdict, on="region")

    tasks = [dask.delayed(one)(r) for r in refs]
    out = pd.concat(compute(tasks, workers, dask_settings, progress=progress), ignore_index=True)
    return out.sort_values(GROUP, kind="stable").reset_index(drop=True)
