"""The one real (32 um, near focus) pair, restored: a small proxy for real-image F1.

The real z = 00 plane of BBBC006 site a01 s1 (``../../shared/realdata/bbbc006_calibration/
pair_a01_s1``, 32 um below focus; read in place) is restored with a trained checkpoint and
segmented, raw and restored, with the diameter range the real z = 00 plate is segmented
with (``config/real_z00.yaml``: the in-focus size measured on this screen's near-focus
planes), or with ``--diameter auto`` the range estimated from the raw plane (the screen
path's default where none is given). Both are matched (IoU > 0.5) against
the segmentation of the same field's near-focus plane (``near_focus/..._a01__s1__w1_10.png``).
That reference is a segmentation, not expert masks, and one field holds few nuclei away
from the border: a proxy for the held-out real evaluation, not a substitute for it.

Run from ``benchmarks/``: ``python bench_real_pair.py --checkpoint
../results/wholestack/models/restormer/checkpoint.pt`` (``make wholestack`` makes it).
Last line: ``reference_nuclei=... raw_f1=... restored_f1=... raw_objects=...
restored_objects=...``.
"""

from __future__ import annotations

import argparse

import numpy as np
from _real_pair import add_diameter_argument, real_pair, with_real_plate_diameter
from skimage.segmentation import clear_border

from platefocus.model_io.checkpoint import load_model
from platefocus.restore.inference import restore_planes
from platefocus.restore.settings import RestoreConfig
from platefocus.segment.matching import match_objects
from platefocus.segment.nuclei import SegmentationConfig, with_diameter
from platefocus.segment.planes import segment_planes

SEGMENTATION = SegmentationConfig(diameter_px=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="a trained restoration checkpoint")
    add_diameter_argument(parser)
    args = parser.parse_args()
    segmentation = with_real_plate_diameter(SEGMENTATION, args.diameter)
    near, far = real_pair()
    far = far.astype(np.float32)
    model, _ = load_model(args.checkpoint)
    restored = restore_planes(model, far[None], [0], RestoreConfig())[0].astype(np.float32)
    reference = clear_border(
        segment_planes([near.astype(np.float32)], with_diameter(SEGMENTATION, near))[0]
    )
    raw_labels, out_labels = segment_planes([far, restored], with_diameter(segmentation, far))
    raw, out = match_objects(reference, raw_labels), match_objects(reference, out_labels)
    print("| a01 s1, 32 um below focus | objects | F1 vs near-focus segmentation |")
    print("|---|---|---|")
    print(f"| raw | {raw.n_pred} | {raw.f1:.3f} |")
    print(f"| restored | {out.n_pred} | {out.f1:.3f} |")
    print(f"({raw.n_true} reference nuclei off the border: a proxy, not expert masks)")
    print(
        f"reference_nuclei={raw.n_true} raw_f1={raw.f1:.3f} restored_f1={out.f1:.3f} "
        f"raw_objects={raw.n_pred} restored_objects={out.n_pred}"
    )


if __name__ == "__main__":
    main()
