"""Does broadband emission explain how the real pair blurs? The widefield PSF averaged
over an emission band, against the one-wavelength PSF the synthetic plate uses.

The real (near focus, 32 um) pair of field a01 s1 (``../../shared/realdata``, read in
place): for each band and numerical aperture, the mean of the model's kernels at evenly
spaced wavelengths across the band predicts the 32 um plane from the near-focus one (gain
and offset fitted, :func:`platefocus.consistency.calibrate.prediction_residual`; residual
in noise units) and its 50 % / 80 % encircled-energy radii (pixels). Hoechst emits about
0.42-0.50 um through a DAPI filter and 0.40-0.56 um without one; the plate uses 0.46 um.

Run from ``benchmarks/``: ``python bench_emission_band.py``. Last line:
``residual_change_<band>=...`` (band residual minus the one-wavelength residual at the
aperture fitted to the pair) and ``ee80_change_px_<band>=...``.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
from _real_pair import REALDATA, real_pair

from platefocus.consistency.calibrate import prediction_residual
from platefocus.consistency.hallucination import noise_sigma
from platefocus.consistency.operator import kernel_width_px
from platefocus.synth.psf import Optics, widefield_psf

DISTANCE_UM = -32.0  # the pair's far plane lies below focus
BANDS = {"single": (0.46, 0.46, 1), "dapi": (0.42, 0.50, 5), "open": (0.40, 0.56, 9)}
APERTURES = (0.5, 0.55, 0.575, 0.6, 0.625)
KERNEL_PX = 201


def band_kernel(optics: Optics, low_um: float, high_um: float, samples: int) -> np.ndarray:
    """The widefield kernel at ``DISTANCE_UM`` averaged over ``samples`` wavelengths
    evenly spaced from ``low_um`` to ``high_um`` (a flat emission band), (P, P), unit sum."""
    kernels = [
        widefield_psf(
            dataclasses.replace(optics, emission_wavelength_um=float(w)),
            np.array([DISTANCE_UM]),
            KERNEL_PX,
        )[0]
        for w in np.linspace(low_um, high_um, samples)
    ]
    return np.mean(kernels, axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=REALDATA)
    args = parser.parse_args()
    near, far = (plane.astype(float) for plane in real_pair(args.real))
    sigma = noise_sigma(far)
    rows = []
    for name, (low, high, samples) in BANDS.items():
        for aperture in APERTURES:
            kernel = band_kernel(Optics(numerical_aperture=aperture), low, high, samples)
            residual = prediction_residual(near, far, kernel, sigma)[0]
            rows.append(
                (
                    name,
                    low,
                    high,
                    aperture,
                    residual,
                    kernel_width_px(kernel, 0.5),
                    kernel_width_px(kernel, 0.8),
                )
            )
    print("band     wavelengths um  NA     residual  ee50 px  ee80 px")
    for name, low, high, aperture, residual, ee50, ee80 in rows:
        print(
            f"{name:8s} {low:.2f}-{high:.2f}       {aperture:<6g} {residual:8.3f}"
            f"  {ee50:7.1f}  {ee80:7.1f}"
        )
    single = {r[3]: r for r in rows if r[0] == "single"}
    fitted = min(single.values(), key=lambda r: r[4])[3]
    keys = [f"fitted_na={fitted:g}"]
    for name in BANDS:
        if name == "single":
            continue
        row = next(r for r in rows if r[0] == name and r[3] == fitted)
        keys.append(f"residual_change_{name}={row[4] - single[fitted][4]:+.4f}")
        keys.append(f"ee80_change_px_{name}={row[6] - single[fitted][6]:+.2f}")
    print(" ".join(keys))


if __name__ == "__main__":
    main()
