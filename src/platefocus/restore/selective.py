"""Selective restoration: planes judged in focus are copied, not restored.

A plane is judged by its estimated distance from focus, in micrometres:

- in a Z-stack, ``|z - best_z_refined| * z_step_um`` (the focus table's field row);
- a plane with no focus curve (a field of one plane) from its sharpness, through a
  calibration learned from the training plate's focus curves: the median, over fields, of
  the focus metric of the plane ``dz`` away from the best one relative to the best one
  (the curve falls with ``|dz|``), and the median metric of the best planes. A plane whose
  metric, relative to that in-focus level, lies above the curve's value at the tolerance is
  within it. Sharpness also depends on what a field holds (a field of few nuclei is less
  sharp in focus than a crowded one), so this estimate is coarse; the Z-stack one is not.

Planes within ``skip_within_um`` are copied from the input; the restored plate records, per
field, which planes were restored and each plane's estimated distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class DefocusCalibration:
    """How sharpness falls with distance from focus, learned from focus curves.

    Attributes
    ----------
    distances_um : tuple of float
        ``|dz|`` in micrometres, increasing from 0.
    relative_sharpness : tuple of float
        Median metric at that distance over the metric of the best plane (1 at 0),
        made non-increasing.
    in_focus_sharpness : float
        Median metric of the best planes (the metric's units).
    metric : str
        The focus metric (a column of the plane-score table).
    """

    distances_um: tuple[float, ...]
    relative_sharpness: tuple[float, ...]
    in_focus_sharpness: float
    metric: str = "tenengrad"

    def defocus_um(self, sharpness: float) -> float:
        """Estimated ``|dz|`` (um) of a plane of this sharpness (the metric's units)."""
        relative = sharpness / self.in_focus_sharpness
        # np.interp needs increasing x: the curve read backwards
        return float(
            np.interp(
                relative,
                self.relative_sharpness[::-1],
                self.distances_um[::-1],
                left=self.distances_um[-1],
                right=0.0,
            )
        )

    def sharpness_at(self, distance_um: float) -> float:
        """Relative sharpness at ``distance_um`` from focus (the skip threshold)."""
        return float(np.interp(distance_um, self.distances_um, self.relative_sharpness))

    def to_dict(self) -> dict:
        return {
            "metric": self.metric,
            "in_focus_sharpness": self.in_focus_sharpness,
            "distances_um": list(self.distances_um),
            "relative_sharpness": list(self.relative_sharpness),
        }


def learn_calibration(
    scores: pd.DataFrame,
    best: pd.DataFrame,
    z_step_um: float,
    channel: int = 1,
    metric: str = "tenengrad",
) -> DefocusCalibration:
    """The :class:`DefocusCalibration` of a plate's focus curves (whole fields).

    ``scores``: plane scores (``plane_scores.parquet``); ``best``: its focus table.
    """
    keys = ["well", "site"]
    field = scores[(scores["region"] == "field") & (scores["channel"] == channel)]
    top = best[(best["region"] == "field") & (best["channel"] == channel)][[*keys, "best_z"]]
    curves = field.merge(top, on=keys)
    peak = curves[curves["z"] == curves["best_z"]].set_index(keys)[metric]
    if peak.empty:
        raise ValueError("no focus curve with a best plane to learn the calibration from")
    curves = curves.assign(
        distance_um=(curves["z"] - curves["best_z"]).abs() * z_step_um,
        relative=curves[metric].to_numpy() / peak.reindex(curves.set_index(keys).index).to_numpy(),
    )
    per = curves.groupby("distance_um")["relative"].median().sort_index()
    relative = np.minimum.accumulate(per.to_numpy())  # sharpness never rises away from focus
    return DefocusCalibration(
        distances_um=tuple(float(d) for d in per.index),
        relative_sharpness=tuple(float(r) for r in relative),
        in_focus_sharpness=float(peak.median()),
        metric=metric,
    )


def estimated_defocus_um(
    source_z: list[int | None],
    best_z_refined: float | None,
    plane_sharpness: dict[int, float],
    z_step_um: float,
    calibration: DefocusCalibration | None,
    single_plane: bool,
) -> list[float | None]:
    """Estimated distance from focus (um) of each restored plane (None: no plane).

    A Z-stack's planes from the best plane; a single plane from its sharpness (needs the
    calibration; ``plane_sharpness`` maps z to the calibration's metric).
    """
    out: list[float | None] = []
    for z in source_z:
        if z is None:
            out.append(None)
        elif not single_plane and best_z_refined is not None:
            out.append(abs(z - best_z_refined) * z_step_um)
        elif calibration is not None and z in plane_sharpness:
            out.append(calibration.defocus_um(plane_sharpness[z]))
        else:
            out.append(None)  # unknown: restored
    return out


def planes_to_restore(defocus_um: list[float | None], skip_within_um: float | None) -> list[bool]:
    """Which planes to restore: all of them without a tolerance; else those farther from
    focus than it, or of unknown distance."""
    if skip_within_um is None:
        return [True] * len(defocus_um)
    return [d is None or d > skip_within_um for d in defocus_um]
