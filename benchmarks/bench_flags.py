"""The hallucination flag's precision and recall, measured with planted nuclei.

No network of the model comparison invents nuclei on the demo plate (not one restored
object is flagged), so the flag's precision cannot be read from their output. Here
inventions are planted: into every restored plane of the held-out wells with a kernel,
``--plant`` true nuclei of another field's in-focus plane are pasted (their light above
the background, times ``--brightness``, at random places at least ``--margin`` px from any
true nucleus), the plane is segmented as the comparison segments it, and each object's
support in the observation is computed with the plate's estimated operator
(:func:`platefocus.consistency.planes.plane_consistency`).

- precision: flagged objects that are planted / flagged objects,
- recall: planted objects found by segmentation and flagged / planted objects found,
- false flags: true objects (IoU > 0.5 with a true nucleus) flagged / true objects.

    python benchmarks/bench_flags.py --results results/demo --model restormer

Last line: ``precision=.. recall=.. false_flag_rate=.. planted=.. flagged=..``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import ndimage


def plant(
    restored: np.ndarray,
    truth: np.ndarray,
    donor: np.ndarray,
    donor_labels: np.ndarray,
    n: int,
    margin: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """``restored`` with ``n`` donor nuclei pasted away from every true nucleus, and the
    mask of each pasted nucleus (labels 1..n, (Y, X))."""
    out = restored.astype(np.float64).copy()
    planted = np.zeros(restored.shape, np.int32)
    background = float(np.median(donor[donor_labels == 0]))
    free = ndimage.distance_transform_edt(truth == 0) > margin
    boxes = [b for b in ndimage.find_objects(donor_labels) if b is not None]
    for k in range(1, n + 1):
        box = boxes[rng.integers(len(boxes))]
        label = donor_labels[box]
        inside = label == label[label.shape[0] // 2, label.shape[1] // 2]
        if not inside.any():
            inside = label > 0
        h, w = inside.shape
        for _ in range(50):  # a free place for the whole nucleus, not on an earlier one
            y, x = rng.integers(0, restored.shape[0] - h), rng.integers(0, restored.shape[1] - w)
            window = (slice(y, y + h), slice(x, x + w))
            if free[window][inside].all() and not planted[window][inside].any():
                light = np.clip(donor[box] - background, 0, None)
                out[window][inside] += light[inside]
                planted[window][inside] = k
                free[window] = False
                break
    return out, planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results/demo"))
    parser.add_argument("--model", default="restormer")
    parser.add_argument("--plant", type=int, default=3)
    parser.add_argument("--margin", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--brightness", type=float, default=1.0, help="planted light x this (faint inventions)"
    )
    args = parser.parse_args()

    from platefocus.compare.segmentation import _truth_labels
    from platefocus.consistency.planes import plane_consistency
    from platefocus.consistency.stack import load_kernels
    from platefocus.dataset.split import held_out_planes
    from platefocus.io.fields import field_array, list_fields
    from platefocus.io.omezarr import open_image, read_platefocus_attrs
    from platefocus.segment.matching import iou_matrix
    from platefocus.segment.nuclei import SegmentationConfig, identify_primary_objects

    config = yaml.safe_load(Path("config/config.yaml").read_text())
    segmentation = SegmentationConfig.from_config(config["segmentation"])
    channel = config["focus"]["target_channel"]
    plate = args.results.name
    truth_root = Path(config["truth"]["root"].format(plate=plate))
    kernels = load_kernels(args.results / "models" / "operator.npz")
    manifest = pd.read_parquet(args.results / "manifest.parquet")
    planes = pd.read_parquet(args.results / "segmentation" / args.model / "fields.parquet")
    planes = held_out_planes(planes[planes["dz"].notna()])
    planes = planes[planes["dz"].round().astype(int).isin(kernels)]
    refs = {(r.well, r.site): r for r in list_fields(manifest)}
    restored_plate = args.results / "restored" / f"{args.model}.ome.zarr"
    raw_plate = args.results / "plate.ome.zarr"
    rng = np.random.default_rng(args.seed)
    fields = sorted(set(zip(planes["well"], planes["site"], strict=True)))
    rows, n_planted = [], 0
    for i, key in enumerate(fields):
        ref = refs[key]
        donor_ref = refs[fields[(i + 1) % len(fields)]]  # another field's true nuclei
        stack = np.asarray(field_array(raw_plate, ref)[ref.channels.index(channel)])
        donor_stack = np.asarray(field_array(raw_plate, donor_ref)[ref.channels.index(channel)])
        truth = _truth_labels(truth_root, ref)
        donor_labels = _truth_labels(truth_root, donor_ref)
        restored = open_image(restored_plate, ref.path)[0]
        source_z = read_platefocus_attrs(restored_plate, ref.path)["source_z"]
        here = planes[(planes["well"] == key[0]) & (planes["site"] == key[1])]
        donor_best = int(
            planes.loc[planes["well"] == donor_ref.well, "best_z"].iloc[0]
            if (planes["well"] == donor_ref.well).any()
            else here["best_z"].iloc[0]
        )
        donor = donor_stack[donor_ref.z_indices.index(donor_best)].astype(np.float64)
        for row in here.itertuples():
            z = int(row.z)
            observed = stack[ref.z_indices.index(z)]
            x = np.asarray(restored[source_z.index(z)], np.float64)
            planted_x, planted = plant(x, truth, donor, donor_labels, args.plant, args.margin, rng)
            labels = identify_primary_objects(planted_x, segmentation)
            _, objects, _ = plane_consistency(
                observed, planted_x, labels, kernels[round(row.dz)], truth
            )
            overlap = iou_matrix(planted, labels)  # (planted, objects)
            is_planted = (
                overlap.max(axis=0) > 0.5 if overlap.shape[0] else np.zeros(overlap.shape[1], bool)
            )
            n_planted += int(planted.max())
            objects = objects.assign(planted=is_planted[objects["label"].to_numpy() - 1])
            rows.append(objects.assign(well=key[0], site=key[1], dz=round(row.dz)))
    objects = pd.concat(rows, ignore_index=True)
    planted, real = objects[objects["planted"]], objects[objects["real"] & ~objects["planted"]]
    flagged = objects[objects["flagged"]]
    by_dz = objects.groupby("dz").apply(
        lambda g: pd.Series(
            {
                "planted_found": int(g["planted"].sum()),
                "planted_flagged": int((g["planted"] & g["flagged"]).sum()),
                "true_objects": int((g["real"] & ~g["planted"]).sum()),
                "true_flagged": int((g["real"] & ~g["planted"] & g["flagged"]).sum()),
                "median_support_planted": g.loc[g["planted"], "support"].median(),
                "median_support_true": g.loc[g["real"] & ~g["planted"], "support"].median(),
            }
        ),
        include_groups=False,
    )
    print(
        f"{args.model}: {len(fields)} held-out fields, {len(objects)} objects, "
        f"{n_planted} nuclei planted, {len(planted)} of them segmented as objects"
    )
    print(by_dz.round(3).to_string())
    precision = float(flagged["planted"].mean()) if len(flagged) else float("nan")
    recall = float(planted["flagged"].mean()) if len(planted) else float("nan")
    false_rate = float(real["flagged"].mean()) if len(real) else float("nan")
    print(
        f"precision={precision:.3f} recall={recall:.3f} false_flag_rate={false_rate:.4f} "
        f"planted={len(planted)} flagged={len(flagged)}"
    )


if __name__ == "__main__":
    main()
