"""The one real (near focus, 32 um below) pair of BBBC006 field a01 s1, read in place from
``../../shared/realdata/bbbc006_calibration`` (see its README): the one reader of it for
the benchmarks that use it; and the diameter range the real z = 00 plate is segmented
with (``config/real_z00.yaml``), which they segment real planes with."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import tifffile
import yaml

from platefocus.segment.nuclei import SegmentationConfig

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
#: The real z = 00 plate's settings (restored by ``make wholestack``).
REAL_CONFIG = Path(__file__).resolve().parents[1] / "config" / "real_z00.yaml"


def real_plate_diameter_px(config: Path = REAL_CONFIG) -> tuple[int, int]:
    """``segmentation.diameter_px`` of the real z = 00 plate: the in-focus nuclear size
    measured on the screen's near-focus planes, /2 to x2, pixels."""
    return tuple(yaml.safe_load(config.read_text())["segmentation"]["diameter_px"])


def add_diameter_argument(parser: argparse.ArgumentParser) -> None:
    """``--diameter in-focus | auto``: segment real planes with the real plate's range
    (:func:`real_plate_diameter_px`) or estimate it from each raw plane."""
    parser.add_argument(
        "--diameter",
        choices=("in-focus", "auto"),
        default="in-focus",
        help="segmentation.diameter_px of the real (or blurred) and restored planes:"
        " config/real_z00.yaml's (the in-focus size) or auto (estimated from each raw plane)",
    )


def with_real_plate_diameter(segmentation: SegmentationConfig, diameter: str) -> SegmentationConfig:
    """``segmentation`` with the real plate's range for ``--diameter in-focus``, as is
    for ``auto``."""
    if diameter == "auto":
        return segmentation
    return replace(segmentation, diameter_px=real_plate_diameter_px())


def real_pair(realdata: Path = REALDATA) -> tuple[np.ndarray, np.ndarray]:
    """``(near, far)``: the near-focus plane (PNG) and the plane 32 um below focus (TIFF)
    of field a01 s1, each (Y, X) in their stored integer type."""
    calibration = realdata / "bbbc006_calibration"
    near = iio.imread(next((calibration / "near_focus").glob("*a01__s1*.png")))
    far = tifffile.imread(next((calibration / "pair_a01_s1").glob("*.tif")))
    return near, far
