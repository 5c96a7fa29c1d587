"""The one real (near focus, 32 um below) pair of BBBC006 field a01 s1, read in place from
``../../shared/realdata/bbbc006_calibration`` (see its README): the one reader of it for
the benchmarks that use it."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import tifffile

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def real_pair(realdata: Path = REALDATA) -> tuple[np.ndarray, np.ndarray]:
    """``(near, far)``: the near-focus plane (PNG) and the plane 32 um below focus (TIFF)
    of field a01 s1, each (Y, X) in their stored integer type."""
    calibration = realdata / "bbbc006_calibration"
    near = iio.imread(next((calibration / "near_focus").glob("*a01__s1*.png")))
    far = tifffile.imread(next((calibration / "pair_a01_s1").glob("*.tif")))
    return near, far
