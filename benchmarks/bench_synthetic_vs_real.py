"""The synthetic plate against real images: real BBBC006 planes at z = 00 (32 um below the
best focus, z = 16) beside a synthetic preset at the same distance from focus.

``--preset bbbc006`` (default) is compared as it is. ``--preset demo`` has the same physics
(optics, camera, nuclei) in a smaller field and a shorter stack (256 x 256, 21 planes, best
at 10: its farthest plane is 20 um from focus), so it is generated here in BBBC006's field
and stack geometry (520 x 696, 34 planes, best at 16) to be seen at 32 um as well.

Figures per plane (median over fields): background (10th percentile), the 1st and 99.8th
percentiles, noise (1.4826 x MAD of the residual of a 3x3 median filter), nuclei per field
and their diameter (the same segmentation with the diameter estimated from the image),
and Tenengrad (mean squared Sobel gradient). Ratios are synthetic / real; a figure
matches when within 25 %.

Run from ``benchmarks/``: ``python bench_synthetic_vs_real.py [--fields 12] [--preset demo]``.
The real planes are read in place from ``../../shared/realdata/bbbc006``. Last line:
``matched=<n>/<total> <figure>_ratio=...``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage

from platefocus.focus.metrics import gradient_energy
from platefocus.segment.nuclei import (
    SegmentationConfig,
    estimate_diameter,
    identify_primary_objects,
)
from platefocus.synth import generate_plate, preset

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "bbbc006"
TOLERANCE = 0.25
SEGMENTATION = SegmentationConfig(diameter_px=None)


def plane_figures(plane: np.ndarray) -> dict[str, float]:
    """The compared figures of one plane (intensities in ADU, sizes in pixels)."""
    image = plane.astype(np.float64)
    residual = image - ndimage.median_filter(image, 3)
    labels = identify_primary_objects(image, SEGMENTATION)
    return {
        "background_adu": float(np.percentile(image, 10)),
        "p1_adu": float(np.percentile(image, 1)),
        "p99.8_adu": float(np.percentile(image, 99.8)),
        "noise_adu": float(1.4826 * np.median(np.abs(residual - np.median(residual)))),
        "nuclei_per_field": float(labels.max()),
        "diameter_px": estimate_diameter(image),
        "tenengrad": float(gradient_energy(image).mean()),
    }


def median_figures(planes: list[np.ndarray]) -> dict[str, float]:
    per_plane = [plane_figures(p) for p in planes]
    return {k: float(np.nanmedian([f[k] for f in per_plane])) for k in per_plane[0]}


#: The BBBC006 field and stack geometry, for presets made in another.
BBBC006_GEOMETRY = dict(height=520, width=696, planes=34, best_plane=16.0, well_offsets_um={})


def synthetic_planes(
    fields: int, z: int, out: Path, overrides: dict, preset_name: str = "bbbc006"
) -> list[np.ndarray]:
    """Plane ``z`` of ``fields`` fields of a synthetic preset in the BBBC006 geometry."""
    spec = preset(
        preset_name,
        **{
            **BBBC006_GEOMETRY,
            **overrides,
            "rows": 1,
            "columns": fields,
            "sites": 1,
            "channels": 1,
        },
    )
    plate = generate_plate(spec, out / "plate", progress=True)
    files = sorted((plate / "images").glob(f"*_z_{z:02d}/*_w1*.tif"))
    return [tifffile.imread(f) for f in files]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=12, help="synthetic fields to generate")
    parser.add_argument("--preset", default="bbbc006", choices=["bbbc006", "demo"])
    parser.add_argument("--real", type=Path, default=REAL)
    parser.add_argument("--overrides", default="{}", help="JSON of PlateSpec fields to try")
    args = parser.parse_args()

    real_files = sorted(args.real.rglob("*_z_00/*.tif"))
    if not real_files:
        raise SystemExit(f"no real planes under {args.real}")
    real = median_figures([tifffile.imread(f) for f in real_files])
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = median_figures(
            synthetic_planes(args.fields, 0, Path(tmp), json.loads(args.overrides), args.preset)
        )
    seconds = time.perf_counter() - t0

    print(f"real: {len(real_files)} BBBC006 planes at z=00; synthetic: {args.fields} fields of")
    print(f"the {args.preset} preset at z=00 ({seconds:.0f} s to generate)\n")
    print(f"| figure | real | synthetic | synthetic / real | within {TOLERANCE:.0%} |")
    print("|---|---|---|---|---|")
    ratios, matched = {}, 0
    for key in real:
        ratio = synthetic[key] / real[key] if real[key] else float("nan")
        ok = abs(ratio - 1) <= TOLERANCE
        matched += ok
        ratios[key] = ratio
        verdict = "yes" if ok else "no"
        print(f"| {key} | {real[key]:.4g} | {synthetic[key]:.4g} | {ratio:.2f} | {verdict} |")
    summary = " ".join(f"{k.replace('.', '_')}_ratio={v:.2f}" for k, v in ratios.items())
    print(f"matched={matched}/{len(real)} {summary}")


if __name__ == "__main__":
    main()
