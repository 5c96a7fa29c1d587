"""How far from focus the plane of a one-plane field lies: in micrometres (the estimated
distance, else the stated one) and in the defocus operator's offsets (planes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SinglePlaneDistance:
    """How far from focus the plane of a one-plane field is: the one owner of the rule
    "restore's estimate where there is one, else the distance the acquisition states".

    ``stated_um``: the distance the acquisition states (``reliability.
    single_plane_defocus_um``), used where restore did not estimate one; ``z_step_um``
    converts micrometres to the operator's offsets (planes)."""

    z_step_um: float
    stated_um: float | None = None

    def distance_um(self, estimated_um: float | np.ndarray | None) -> np.ndarray:
        """The distance from focus in micrometres, element by element: ``estimated_um``
        where it is finite, else the stated distance (NaN when neither is known). A
        scalar in gives a 0-d array out."""
        estimated = np.asarray(np.nan if estimated_um is None else estimated_um, dtype=float)
        stated = np.nan if self.stated_um is None else float(self.stated_um)
        return np.where(np.isfinite(estimated), estimated, stated)

    def offsets(self, estimated_um: float | None) -> list[int]:
        """The two operator offsets (planes, below and above focus) of a plane whose
        estimated distance is ``estimated_um`` (None or NaN: the stated one); empty when
        neither is known or the distance rounds to the in-focus plane. A single plane does
        not say on which side of focus it lies: both are checked, and the side whose
        kernel explains the observation better is kept."""
        distance = float(self.distance_um(estimated_um))
        if not np.isfinite(distance):
            return []
        planes = int(np.floor(abs(distance) / self.z_step_um + 0.5))  # 2.5 -> 3
        return [-planes, planes] if planes else []
