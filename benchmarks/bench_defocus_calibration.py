"""How real defocus blurs, against the synthetic plate's optics: the calibration figures.

Measured on the real images of ``../../shared/realdata`` (read in place):

* the real (near focus, 32 um) pair of field a01 s1: the numerical aperture whose widefield
  PSF kernel best predicts the 32 um plane from the near-focus one (residual in noise
  units, :func:`platefocus.consistency.calibrate.fit_aperture`), and the kernel the
  regularised least-squares estimator (:func:`platefocus.consistency.operator.
  estimate_kernel`, 81 px, lam 0.1) reads off the pair (50 % and 80 % encircled energy);
* the 21 real z = 00 planes (32 um below focus): isolated nuclei's half width at half
  maximum and peak over background (:func:`platefocus.consistency.calibrate.
  isolated_nucleus_profiles`);
* the 9 real near-focus planes: the in-focus nuclear diameter
  (:func:`platefocus.segment.nuclei.estimate_diameter`).

The same figures are measured on synthetic fields of the ``bbbc006`` preset made with
each compared aperture (the plate's default, and the one fitted to the real pair), their
plane 16 (best focus) and plane 0 (32 um below) taken as the pair. Ratios are synthetic /
real; a figure matches within 25 %.

Run from ``benchmarks/``: ``python bench_defocus_calibration.py [--fields 6]``. Last line:
``fitted_na=... matched_default=<n>/<k> matched_fitted=<n>/<k> <figure>_ratio_<na>=...``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import tifffile
from _real_pair import REALDATA, real_pair

from platefocus.consistency.calibrate import fit_aperture, isolated_nucleus_profiles
from platefocus.consistency.operator import estimate_kernel, kernel_width_px
from platefocus.segment.nuclei import (
    SegmentationConfig,
    estimate_diameter,
    identify_primary_objects,
)
from platefocus.synth import generate_plate, preset
from platefocus.synth.psf import Optics

TOLERANCE = 0.25
DISTANCE_UM = 32.0
APERTURES = np.round(np.arange(0.35, 0.751, 0.025), 3)
SEGMENTATION = SegmentationConfig(diameter_px=None)


def pair_figures(near: np.ndarray, far: np.ndarray, optics: Optics) -> dict[str, float]:
    """The fitted aperture of a (near focus, 32 um) pair and the estimator's kernel radii."""
    fit = fit_aperture(near, far, -DISTANCE_UM, optics, APERTURES)
    best = fit[fit["best"]].iloc[0]
    kernel = estimate_kernel([(near, far)], size=81, regularisation=0.1)
    return {
        "pair_fitted_na": float(best["numerical_aperture"]),
        "pair_residual_noise": float(best["residual"]),
        "pair_kernel_ee50_px": kernel_width_px(kernel, 0.5),
        "pair_kernel_ee80_px": kernel_width_px(kernel, 0.8),
    }


def defocused_figures(planes: list[np.ndarray]) -> dict[str, float]:
    """Isolated nuclei of planes 32 um from focus: medians over all of them."""
    profiles = []
    for plane in planes:
        labels = identify_primary_objects(plane.astype(np.float64), SEGMENTATION)
        profiles.append(isolated_nucleus_profiles(plane, labels, clearance_px=90))
    table = [t for t in profiles if len(t)]
    if not table:
        return {"isolated_hwhm_px": np.nan, "isolated_peak_over_background": np.nan}
    hwhm = np.concatenate([t["hwhm_px"].to_numpy() for t in table])
    peak = np.concatenate([t["peak_over_background"].to_numpy() for t in table])
    return {
        "isolated_hwhm_px": float(np.nanmedian(hwhm)),
        "isolated_peak_over_background": float(np.nanmedian(peak)),
        "isolated_nuclei": float(len(hwhm)),
    }


def synthetic_fields(
    aperture: float, fields: int, out: Path, nuclei: dict | None = None
) -> tuple[list, list]:
    """(best planes, planes 32 um below) of ``fields`` synthetic bbbc006 fields, with
    ``nuclei`` (NucleusPopulation fields) over the preset's."""
    spec = preset(
        "bbbc006",
        height=520,
        width=696,
        planes=17,
        best_plane=16.0,
        rows=1,
        columns=fields,
        sites=1,
        channels=1,
        well_offsets_um={},
        optics={**Optics().__dict__, "numerical_aperture": aperture},
        **({"nuclei": nuclei} if nuclei else {}),
    )
    plate = generate_plate(spec, out / f"na{aperture}", progress=False)
    read = lambda z: [tifffile.imread(f) for f in sorted(plate.glob(f"images/*_z_{z:02d}/*.tif"))]  # noqa: E731
    return read(16), read(0)


def all_figures(near: list, far: list, optics: Optics) -> dict[str, float]:
    figures = {}
    pairs = [
        pair_figures(n.astype(float), f.astype(float), optics)
        for n, f in zip(near, far, strict=True)
    ]
    for key in pairs[0]:
        figures[key] = float(np.median([p[key] for p in pairs]))
    figures.update(defocused_figures(far))
    figures["infocus_diameter_px"] = float(np.median([estimate_diameter(n) for n in near]))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=6, help="synthetic fields per aperture")
    parser.add_argument("--real", type=Path, default=REALDATA)
    parser.add_argument(
        "--apertures", type=float, nargs="*", default=[], help="more apertures to compare"
    )
    parser.add_argument("--nuclei", default="{}", help="JSON of NucleusPopulation fields")
    args = parser.parse_args()

    calibration = args.real / "bbbc006_calibration"
    near, far = real_pair(args.real)
    optics = Optics()
    real = pair_figures(near.astype(float), far.astype(float), optics)
    real.update(
        defocused_figures(
            [tifffile.imread(f) for f in sorted(args.real.glob("bbbc006/*_z_00/*.tif"))]
        )
    )
    real["infocus_diameter_px"] = float(
        np.median(
            [
                estimate_diameter(iio.imread(f))
                for f in sorted((calibration / "near_focus").glob("*.png"))
            ]
        )
    )
    t0 = time.perf_counter()
    synthetic = {}
    with tempfile.TemporaryDirectory() as tmp:
        nuclei = json.loads(args.nuclei)
        compared = {optics.numerical_aperture, real["pair_fitted_na"], *args.apertures}
        for aperture in sorted(compared):
            synthetic[aperture] = all_figures(
                *synthetic_fields(aperture, args.fields, Path(tmp), nuclei), optics
            )
    seconds = time.perf_counter() - t0

    print(f"real: pair a01 s1 (near focus, {DISTANCE_UM:g} um), 21 planes at z=00, 9 near focus;")
    print(f"synthetic: {args.fields} bbbc006 fields per aperture ({seconds:.0f} s)\n")
    header = " | ".join(f"synthetic NA {a:g} | ratio" for a in synthetic)
    print(f"| figure | real | {header} |")
    print("|---|---|" + "---|---|" * len(synthetic))
    matched, ratios = {a: 0 for a in synthetic}, {}
    compared = [k for k in real if k != "isolated_nuclei"]
    for key in real:
        cells = []
        for aperture, figures in synthetic.items():
            ratio = figures[key] / real[key] if real[key] else np.nan
            if key in compared:
                matched[aperture] += abs(ratio - 1) <= TOLERANCE
                ratios[f"{key}_ratio_{aperture:g}"] = ratio
            cells.append(f"{figures[key]:.3g} | {ratio:.2f}")
        print(f"| {key} | {real[key]:.3g} | {' | '.join(cells)} |")
    default, fitted = optics.numerical_aperture, real["pair_fitted_na"]
    summary = " ".join(f"{k.replace('.', '_')}={v:.2f}" for k, v in ratios.items())
    print(
        f"fitted_na={fitted:g} matched_default={matched[default]}/{len(compared)} "
        f"matched_fitted={matched[fitted]}/{len(compared)} {summary}"
    )


if __name__ == "__main__":
    main()
