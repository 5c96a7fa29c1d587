"""How far from focus the plane of a one-plane field lies, in the defocus operator's
offsets (planes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SinglePlaneDistance:
    """How far from focus the plane of a one-plane field is, for its consistency check.

    ``stated_um``: the distance the acquisition states (``reliability.
    single_plane_defocus_um``), used where restore did not estimate one; ``z_step_um``
    converts micrometres to the operator's offsets (planes)."""

    z_step_um: float
    stated_um: float | None = None

    def offsets(self, estimated_um: float | None) -> list[int]:
        """The two operator offsets (planes, below and above focus) of a plane whose
        estimated distance is ``estimated_um`` (None or NaN: the stated one); empty when
        neither is known or the distance rounds to the in-focus plane. A single plane does
        not say on which side of focus it lies: both are checked, and the side whose
        kernel explains the observation better is kept."""
        distance = estimated_um
        if distance is None or not np.isfinite(distance):
            distance = self.stated_um
        if distance is None:
            return []
        planes = int(np.floor(abs(float(distance)) / self.z_step_um + 0.5))  # 2.5 -> 3
        return [-planes, planes] if planes else []
