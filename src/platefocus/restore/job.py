"""One restore job's settings, built once (by :mod:`platefocus.pipeline.restore` or
:func:`platefocus.restore.plate.restore_plate`) and passed whole to the functions that
restore fields and complete the plate."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from platefocus.io.omezarr import Acquisition
from platefocus.restore.planes import PlaneSelection
from platefocus.restore.selective import DefocusCalibration
from platefocus.restore.settings import RestoreConfig


@dataclass(frozen=True)
class RestoreJob:
    """What restores a plate and where.

    Result settings: ``checkpoint`` (model file), ``selection`` (planes), ``config``
    (tiling, normalisation, projection), ``acquisition`` (sampling, micrometres; restoring
    fields needs it, completing the plate does not),
    ``channel`` (1-based), ``pyramid_levels``, ``best`` (the plate's best planes, for
    offsets), ``calibration`` and ``plane_scores`` (selective restoration). Run-time
    settings, which change no result: ``device``, ``workers`` (fields in parallel),
    ``dask_settings`` (a cluster), ``progress`` (a progress bar).
    """

    checkpoint: str
    selection: PlaneSelection
    config: RestoreConfig
    acquisition: Acquisition | None = None
    channel: int = 1
    pyramid_levels: int = 1
    best: pd.DataFrame | None = None
    calibration: DefocusCalibration | None = None
    plane_scores: pd.DataFrame | None = None
    device: str = "auto"
    workers: int = 1
    dask_settings: dict | None = None
    progress: bool = True
