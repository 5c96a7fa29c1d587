"""Does the per-object confidence mark the failures restoration makes? Hard cases planted
into otherwise perfect restorations of synthetic fields, with known truth.

For every field of a demo-geometry synthetic plate and each distance, the observed plane
is the plate's real defocused plane (the generator's physics); the "restoration" is the
field's true in-focus image with failures planted into it, each on its own share of the
nuclei:

* ``faithful``: left as it is;
* ``split``: the nucleus replaced by 2 to 4 small bright spots holding its light (what the
  ReFocus U-Net did on real planes);
* ``shrunken`` / ``swollen``: the nucleus drawn at 0.6 / 1.5 times its diameter;
* ``invented``: a nucleus added over a real one's out-of-focus halo, where none is.

The planted plane is segmented with the workflow's settings, each object is scored
(:func:`platefocus.consistency.confidence.object_confidence` with the support of the
plate's physical defocus kernel) and traced to the case it came from. Printed: per case,
how many objects and the fraction marked reliable; the reliability table (confidence bin
against the fraction of objects that match a true nucleus at IoU > 0.5).

    cd benchmarks && python bench_confidence.py [--wells 4] [--dz 4 6 8 10]

Last line: ``reliable_<case>=`` (fraction marked reliable) and ``real_given_reliable=``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
from scipy import ndimage

from platefocus.compare.reliability import reliability_table
from platefocus.compare.segmentation import expected_diameter_px
from platefocus.consistency.confidence import object_confidence
from platefocus.consistency.operator import physical_kernel
from platefocus.consistency.planes import plane_consistency
from platefocus.segment.matching import iou_matrix
from platefocus.segment.nuclei import SegmentationConfig, identify_primary_objects
from platefocus.synth import generate_plate, preset

CASES = ("faithful", "split", "shrunken", "swollen", "invented")
SHARE = {"split": 0.2, "shrunken": 0.1, "swollen": 0.1}  # of the true nuclei; rest faithful
SEGMENTATION = SegmentationConfig(diameter_px=(15, 60))  # the demo workflow's (config.yaml)


def _disk(shape, cy, cx, radius) -> np.ndarray:
    yy, xx = np.ogrid[: shape[0], : shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 < radius**2


def plant(infocus, labels, rng) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """``(restored, source, case_of)``: the in-focus image with failures planted, a label
    image of what was drawn (one id per drawn object) and each id's case."""
    background = float(np.percentile(infocus, 5))
    restored = infocus.astype(np.float64).copy()
    source = np.zeros(labels.shape, int)
    case_of: dict[int, str] = {}
    ids = np.unique(labels[labels > 0])
    cases = rng.choice(
        [*SHARE, "faithful"], size=len(ids), p=[*SHARE.values(), 1 - sum(SHARE.values())]
    )
    for label, case in zip(ids, cases, strict=True):
        mask = labels == label
        cy, cx = ndimage.center_of_mass(mask)
        radius = np.sqrt(mask.sum() / np.pi)
        light = (restored[mask] - background).clip(0).sum()
        next_id = len(case_of) + 1
        if case == "faithful":
            source[mask] = next_id
            case_of[next_id] = case
            continue
        restored[mask] = background
        if case == "split":
            for k in range(rng.integers(2, 5)):
                angle = rng.uniform(0, 2 * np.pi)
                spot = _disk(
                    mask.shape,
                    cy + 0.5 * radius * np.sin(angle),
                    cx + 0.5 * radius * np.cos(angle),
                    0.3 * radius,
                )
                restored[spot] += light / max(spot.sum(), 1) / 3
                source[spot] = next_id + k
                case_of[next_id + k] = case
            continue
        scaled = _disk(mask.shape, cy, cx, radius * (0.6 if case == "shrunken" else 1.5))
        restored[scaled] = background + light / max(scaled.sum(), 1)
        source[scaled] = next_id
        case_of[next_id] = case
    invented = 0
    for label in ids[: max(1, len(ids) // 10)]:  # one invention per ten nuclei
        cy, cx = ndimage.center_of_mass(labels == label)
        radius = np.sqrt((labels == label).sum() / np.pi)
        angle = rng.uniform(0, 2 * np.pi)
        spot = _disk(
            labels.shape,
            cy + 2.2 * radius * np.sin(angle),
            cx + 2.2 * radius * np.cos(angle),
            radius,
        )
        if (labels[spot] > 0).any() or (source[spot] > 0).any():
            continue  # only over empty background, in the halo
        restored[spot] = np.percentile(infocus[labels > 0], 70)
        invented += 1
        source[spot] = len(case_of) + 1
        case_of[len(case_of) + 1] = "invented"
    return restored, source, case_of


def score_field(observed, restored, source, case_of, truth, kernel, expected) -> pd.DataFrame:
    """One row per object of the planted plane: its case, confidence, verdict, realness."""
    segmented = identify_primary_objects(restored, SEGMENTATION)
    observed_labels = identify_primary_objects(observed, SEGMENTATION)
    _, support, _ = plane_consistency(observed, restored, segmented, kernel)
    table = object_confidence(
        segmented, observed_labels, expected, support.set_index("label")["support"]
    )
    overlap = iou_matrix(source, segmented)  # drawn objects (rows) x segmented (columns)
    truth_iou = iou_matrix(truth, segmented)
    drawn = overlap.argmax(axis=0) + 1 if overlap.size else np.zeros(0, int)
    best_truth = truth_iou.max(axis=0) if truth_iou.shape[0] else np.zeros(len(table))
    index = table["label"].to_numpy() - 1
    return table.assign(
        case=[
            case_of.get(int(d), "faithful") if overlap[d - 1, i] > 0 else "unplanted"
            for d, i in zip(drawn[index], index, strict=True)
        ],
        real=best_truth[index] > 0.5,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wells", type=int, default=4)
    parser.add_argument("--dz", type=int, nargs="+", default=[4, 6, 8, 10])
    args = parser.parse_args()
    spec = preset("demo", rows=1, columns=args.wells, sites=2, well_offsets_um={})
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        plate = generate_plate(spec, Path(tmp) / "plate", progress=False)
        best = pd.read_csv(plate / "truth" / "best_planes.csv")
        best = best[best["tile"] == "field"]
        for field in best.itertuples():
            stem = f"{spec.name}_{field.well}_s{field.site}"
            infocus = tifffile.imread(plate / "truth" / f"{stem}_w1_infocus.tif").astype(float)
            truth = tifffile.imread(plate / "truth" / f"{stem}_labels.tif")
            expected = expected_diameter_px(truth, SEGMENTATION)
            for dz in args.dz:
                z = round(field.best_z) + dz
                if not 0 <= z < spec.planes:
                    continue
                (path,) = plate.glob(f"images/*_z_{z:02d}/{stem}_w1*.tif")
                observed = tifffile.imread(path).astype(float)
                kernel = physical_kernel(spec.optics, (z - field.best_z) * 2.0, 41)
                rng = np.random.default_rng([field.Index, dz])
                restored, source, case_of = plant(infocus, truth, rng)
                table = score_field(observed, restored, source, case_of, truth, kernel, expected)
                rows.append(table.assign(dz=dz, well=field.well, site=field.site))
    objects = pd.concat(rows, ignore_index=True).assign(source="restored")
    per_case = objects.groupby("case").agg(
        objects=("label", "size"),
        marked_reliable=("reliable", "mean"),
        real=("real", "mean"),
        median_confidence=("confidence", "median"),
    )
    print(f"planted failures on {len(best)} synthetic fields at |dz| = {args.dz} planes\n")
    print(per_case.round(3).to_markdown())
    print("\nreliability (all planted planes):\n")
    print(reliability_table(objects).round(3).to_markdown(index=False))
    reliable = objects[objects["reliable"]]
    summary = {
        f"reliable_{case}": per_case.loc[case, "marked_reliable"]
        for case in CASES
        if case in per_case.index
    }
    summary["real_given_reliable"] = reliable["real"].mean()
    summary["real_given_unreliable"] = objects[~objects["reliable"]]["real"].mean()
    print(" ".join(f"{k}={v:.3f}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
