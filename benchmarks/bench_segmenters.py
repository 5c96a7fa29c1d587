"""Which segmenter: the classic path against a Cellpose model trained from scratch on the
plate's own true masks (``segmentation.method: cellpose``, ``cellpose.model: plate``).

A demo-preset synthetic plate (8 wells x 2 sites, 21 planes of 256 x 256) is generated;
Cellpose trains on the in-focus planes and true masks of 6 wells and both methods
segment the 2 held-out wells: their in-focus planes and their raw planes at several
distances from focus (F1 at IoU > 0.5 against the true masks, with the diameter range
estimated from the in-focus plane and shared, as the workflow does), and the real
cells3d confocal planes z 28-38 (no labels in ../shared: objects found and their median
diameter; about 48 px by hand). Objects per second on the CPU.

Run from ``benchmarks/``: ``python bench_segmenters.py [--epochs 150]``. Last line:
``f1_classic_infocus=.. f1_cellpose_infocus=.. f1_classic_16um=.. f1_cellpose_16um=..
classic_objects_per_s=.. cellpose_objects_per_s=..``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
from skimage.segmentation import clear_border

from platefocus.segment.matching import match_objects
from platefocus.segment.nuclei import SegmentationConfig, with_diameter
from platefocus.segment.planes import segment_planes
from platefocus.segment.train_cellpose import train_cellpose, truth_files
from platefocus.synth import generate_plate, preset

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
DISTANCES_PLANES = (2, 5, 8, 10)  # x 2 um
Z_STEP_UM = 2.0


def _plate(root: Path):
    plate = generate_plate(preset("demo", name="seg"), root / "seg", progress=False)
    best = pd.read_csv(plate / "truth" / "best_planes.csv")
    best = best[best["tile"] == "field"]
    planes = {}
    for f in (plate / "images").rglob("*.tif"):
        z = int(f.parent.name.rsplit("_", 1)[-1])
        well, site = f.name.split("_")[1], int(f.name.split("_")[2][1:])
        planes[(well, site, z)] = f
    return plate, best, planes


def _field_planes(plate, best, planes, well, site) -> tuple[np.ndarray, dict]:
    """The field's true masks and ``{row name: plane}``: in focus, then raw planes."""
    infocus, labels = (
        tifffile.imread(p) for p in truth_files(plate / "truth", "seg", well, site, 1)
    )
    row = best[(best["well"] == well) & (best["site"] == site)]
    z0 = round(float(row["best_z"].iloc[0]))
    images = {"in focus": infocus}
    for d in DISTANCES_PLANES:
        for z in (z0 - d, z0 + d):
            if (well, site, z) in planes:
                images.setdefault(f"{d * Z_STEP_UM:.0f} um", []).append(
                    tifffile.imread(planes[(well, site, z)])
                )
    return clear_border(labels), images


def _cells3d(config: SegmentationConfig) -> tuple[float, float]:
    """Objects per plane and their median diameter (px) on cells3d z 28-38."""
    stack = tifffile.imread(REALDATA / "cells3d" / "nuclei.tif")
    found = [
        segment_planes([stack[z]], with_diameter(config, stack[z]))[0] for z in range(28, 39, 2)
    ]
    areas = np.concatenate([np.bincount(lab.ravel())[1:] for lab in found])
    diameter = float(np.median(2 * np.sqrt(areas / np.pi))) if len(areas) else float("nan")
    return float(np.mean([lab.max() for lab in found])), diameter


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("--epochs", type=int, default=150)
    args.add_argument("--crop", type=int, default=128)
    args = args.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        plate, best, planes = _plate(root)
        wells = sorted(best["well"].unique())
        train_wells, held_out = wells[:6], wells[6:]
        fields = list(zip(best["well"], best["site"], strict=True))
        data = [
            [tifffile.imread(p) for p in truth_files(plate / "truth", "seg", w, s, 1)]
            for w, s in fields
            if w in train_wells
        ]
        start = time.perf_counter()
        train_cellpose(
            [d[0] for d in data], [d[1] for d in data], root / "model", epochs=args.epochs,
            crop_px=args.crop,
        )  # fmt: skip
        train_s = time.perf_counter() - start
        methods = {
            "classic": SegmentationConfig(),
            "cellpose": SegmentationConfig(method="cellpose", cellpose_model=str(root / "model")),
        }
        f1 = {m: {} for m in methods}
        objects, seconds = dict.fromkeys(methods, 0), dict.fromkeys(methods, 0.0)
        for well, site in (f for f in fields if f[0] in held_out):
            truth, images = _field_planes(plate, best, planes, well, site)
            flat = [
                (k, im) for k, ims in images.items() for im in ([ims] if k == "in focus" else ims)
            ]
            for name, config in methods.items():
                shared = with_diameter(config, images["in focus"])  # as the workflow shares it
                start = time.perf_counter()
                found = segment_planes([im for _, im in flat], shared)
                seconds[name] += time.perf_counter() - start
                for (key, _), lab in zip(flat, found, strict=True):
                    objects[name] += int(lab.max())
                    f1[name].setdefault(key, []).append(match_objects(truth, lab).f1)
        cells3d = {name: _cells3d(config) for name, config in methods.items()}
    print(f"Cellpose from scratch: {args.epochs} epochs on {len(data)} fields, {train_s:.0f} s")
    print(f"\n| held-out synthetic fields ({len(held_out)} wells), F1 | classic | cellpose |")
    print("|---|---|---|")
    for key in f1["classic"]:
        print(f"| {key} | {np.mean(f1['classic'][key]):.3f} | {np.mean(f1['cellpose'][key]):.3f} |")
    c, p = cells3d["classic"], cells3d["cellpose"]
    print(
        "| cells3d z 28-38 (no labels): objects/plane, median diameter px "
        f"| {c[0]:.1f}, {c[1]:.1f} | {p[0]:.1f}, {p[1]:.1f} |"
    )
    rate = {m: objects[m] / max(seconds[m], 1e-9) for m in methods}
    print(f"| objects per second, CPU | {rate['classic']:.0f} | {rate['cellpose']:.0f} |")
    print(
        f"f1_classic_infocus={np.mean(f1['classic']['in focus']):.3f} "
        f"f1_cellpose_infocus={np.mean(f1['cellpose']['in focus']):.3f} "
        f"f1_classic_16um={np.mean(f1['classic']['16 um']):.3f} "
        f"f1_cellpose_16um={np.mean(f1['cellpose']['16 um']):.3f} "
        f"classic_objects_per_s={rate['classic']:.0f} cellpose_objects_per_s={rate['cellpose']:.0f}"
    )


if __name__ == "__main__":
    main()
