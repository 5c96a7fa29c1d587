"""Segmentation on real nuclei: the cells3d confocal stack's middle planes (z 28-38, where
its nuclei are sharpest) against the labels shipped with it (approximate: drawn by the
package author, not expert ground truth), F1 of one-to-one matches at IoU > 0.5 (truth
objects touching the border left out, as the segmentation drops them).

Run from ``benchmarks/``: ``python bench_segment_real.py``. Last line:
``f1_default=.. f1_auto_diameter=.. f1_best=..``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
from skimage.segmentation import clear_border

from platefocus.segment import SegmentationConfig, identify_primary_objects, match_objects
from platefocus.segment.nuclei import estimate_diameter

CELLS3D = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "cells3d"
PLANES = range(28, 39, 2)
SETTINGS = {
    "default": {},
    "auto_diameter": {"diameter_px": None},
    "auto_diameter + otsu": {"diameter_px": None, "threshold": "otsu"},
    "auto_diameter + background opening": {"diameter_px": None, "background": "opening"},
    "auto_diameter + adaptive": {"diameter_px": None, "threshold_scope": "adaptive"},
    "auto_diameter + shape declumping": {"diameter_px": None, "declump": "shape"},
}


def main() -> None:
    nuclei = tifffile.imread(CELLS3D / "nuclei.tif")
    labels = tifffile.imread(CELLS3D / "nuclei_label.tif")
    truth_d = [estimate_diameter(labels[z] > 0) for z in PLANES]
    found_d = [estimate_diameter(nuclei[z]) for z in PLANES]
    print(
        f"diameter, px: labels {np.median(truth_d):.1f}, estimated from the image "
        f"{np.median(found_d):.1f} (median over z {PLANES.start}-{PLANES.stop - 1})\n"
    )
    print("| settings | F1 per plane | mean F1 |")
    print("|---|---|---|")
    means = {}
    for name, kwargs in SETTINGS.items():
        config = SegmentationConfig(**kwargs)
        f1 = [
            match_objects(clear_border(labels[z]), identify_primary_objects(nuclei[z], config)).f1
            for z in PLANES
        ]
        means[name] = float(np.mean(f1))
        print(f"| {name} | {' '.join(f'{v:.2f}' for v in f1)} | {means[name]:.3f} |")
    print(
        f"f1_default={means['default']:.3f} f1_auto_diameter={means['auto_diameter']:.3f} "
        f"f1_best={max(means.values()):.3f}"
    )


if __name__ == "__main__":
    main()
