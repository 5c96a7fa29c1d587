"""Real nuclei under a known blur: restoration and its confidence on real objects.

The synthetic plate's nuclei are drawn; the real z = 00 planes have no truth. Between the
two: the 8 real near-focus BBBC006 planes of ``../../shared/realdata/bbbc006_calibration/
near_focus`` (sites a02-a09 s1, read in place) are blurred with a known kernel, brought to
the real z = 00 planes' intensity scale (the gain and offset of the real a01 s1 pair) and
noise level (Gaussian noise up to the median noise of the 21 real z = 00 planes,
:func:`platefocus.consistency.hallucination.noise_sigma`), then restored with a trained
checkpoint and judged against the segmentation of the plane they were made from. The
objects are real (their shapes, textures, crowding, the plate's background); the blur is
either the widefield model's (``NA 0.45``, the default optics; ``NA 0.575``, the aperture
fitted to the real pair, ``bench_defocus_calibration.py``) at 16, 24 and 32 um, the same
model at NA 0.45 through a 1 mm glass plate bottom (0.83 mm more than the objective's
0.17 mm design: spherical aberration, ``Optics.bottom_mismatch_um``) on its ``wide`` and
``narrow`` side of focus, or the kernel estimated from the real a01 s1 pair itself
(``measured``, 32 um; a01 is therefore left out of the fields). What this leaves out of
real defocus: whatever a convolution of the near-focus plane cannot make (depth within
the nuclei, light from above and below the near plane, photon noise that varies with
intensity).

A second table asks which of these blurs the 21 real z = 00 planes are like, by figures
that need no truth, measured the same way on the blurred planes at 32 um and on the real
planes: isolated nuclei's half width and peak over background
(``bench_defocus_calibration.defocused_figures``), objects per raw plane and the diameter
estimated from it, and what the model makes of them (restored objects per raw object,
their median diameter). Object counts depend on how crowded the fields are, which differs
between the near-focus fields and the real z = 00 ones; the other figures much less.

Each plane goes through the screen path's own comparison of a one-plane field
(:func:`platefocus.compare.segmentation.compare_single_plane`: segmented with the
diameter range ``config/real_z00.yaml`` gives the real planes, the in-focus size measured
on this screen's near-focus planes, or with ``--diameter auto`` the range estimated from
each raw plane, which the objects' expected size then also comes from; support against
the operator, confidence, ``reliable``),
with the operator the pipeline would hold for a real plate: the model's kernel at the
default optics for the stated distance, whatever blur made the plane. ``confident``: the
objects' own verdict (confidence >= 0.5); ``reliable``: what is left of it after the plane
verdicts the summary stage gives a plate without truth (:func:`as_real_plate`: beyond the
reliable range the training plate's held-out planes earned, or unlike them in
consistency), which is what a real plate's report counts. The reference is a
segmentation of a near-focus plane, not expert masks, and objects touching the border are
left out of it, as the pipeline does with true labels.

Run from ``benchmarks/``: ``python bench_real_nuclei_blurred.py --checkpoint
../results/wholestack/models/restormer/checkpoint.pt`` (``make wholestack`` makes it).
Last line: ``hwhm_ratio_<blur>=`` and ``restored_per_raw_ratio_<blur>=`` (to the real
z = 00 planes, 32 um), then ``raw_f1_<blur>_<um>=``, ``restored_f1_<blur>_<um>=``,
``real_given_confident_<blur>_<um>=`` and ``reliable_<blur>_<um>=`` for every condition.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import imageio.v3 as iio
import numpy as np
import pandas as pd
import tifffile
from _real_pair import REALDATA, add_diameter_argument, real_pair, with_real_plate_diameter
from bench_defocus_calibration import defocused_figures

from platefocus.compare.reliability import (
    apply_held_out_consistency,
    apply_reliable_range,
    consistency_against_held_out,
    reliable_range,
)
from platefocus.compare.segmentation import compare_single_plane
from platefocus.consistency.calibrate import prediction_residual
from platefocus.consistency.hallucination import noise_sigma
from platefocus.consistency.operator import estimate_kernel, kernel_width_px, physical_kernel
from platefocus.consistency.projection import blur
from platefocus.io.fields import FieldRef
from platefocus.model_io.checkpoint import load_model
from platefocus.restore.inference import restore_planes
from platefocus.restore.settings import RestoreConfig
from platefocus.segment.nuclei import (
    DECLUMP,
    SegmentationConfig,
    estimate_diameter,
    with_diameter,
)
from platefocus.segment.planes import segment_planes
from platefocus.synth.psf import Optics

SEGMENTATION = SegmentationConfig(diameter_px=None)  # the screen path's default (auto)
KERNEL_PX = 81
DISTANCES_UM = (16, 24, 32)
APERTURES = (0.45, 0.575)
#: Glass beyond the objective's design, micrometres (a 1 mm plate bottom, 0.17 mm design).
THICK_BOTTOM_UM = 830.0
THICK_NAME = "NA 0.45 1mm-bottom"
#: The distance of the real z = 00 planes, where blurs are compared with them.
LIKENESS_UM = 32
REAL_NAME = "real z = 00"
REF = FieldRef("real-nuclei", "A01", "A", 1, 1, 0, (1,), (0,))


def pair_scale(near: np.ndarray, far: np.ndarray, kernel: np.ndarray) -> tuple[float, float]:
    """``(gain, offset)`` with ``far ~ gain * (kernel * near) + offset``: the least-squares
    fit of :func:`platefocus.consistency.calibrate.prediction_residual`."""
    _, gain, offset = prediction_residual(near, far, kernel, sigma=1.0)
    return gain, offset


def defocused(
    near: np.ndarray, kernel: np.ndarray, scale: tuple[float, float], noise: float, seed: int
) -> np.ndarray:
    """The near-focus plane blurred by ``kernel``, on the real far plane's scale, with
    Gaussian noise added up to a noise level of ``noise`` (intensity units)."""
    gain, offset = scale
    plane = gain * blur(near.astype(np.float64), kernel) + offset
    extra = np.sqrt(max(noise**2 - noise_sigma(plane) ** 2, 0.0))
    return plane + np.random.default_rng(seed).normal(0.0, extra, plane.shape)


def blurs(near_pair: np.ndarray, far_pair: np.ndarray) -> dict[tuple[str, int], np.ndarray]:
    """``(blur name, distance um) -> kernel`` of every condition."""
    conditions = {
        (f"NA {na}", um): physical_kernel(Optics(numerical_aperture=na), -um, KERNEL_PX)
        for na in APERTURES
        for um in DISTANCES_UM
    }
    conditions["measured", 32] = estimate_kernel(
        [(near_pair, far_pair)], size=KERNEL_PX, regularisation=0.1
    )
    # Spherical aberration of a plate bottom thicker than the objective's design: the two
    # sides of focus blur differently (a core and wide wings; a compact disk)
    thick = Optics(bottom_mismatch_um=THICK_BOTTOM_UM)
    for um in DISTANCES_UM:
        below, above = (physical_kernel(thick, sign * um, KERNEL_PX) for sign in (-1, 1))
        wide, narrow = sorted((below, above), key=lambda k: -kernel_width_px(k, 0.8))
        conditions[f"{THICK_NAME} wide", um] = wide
        conditions[f"{THICK_NAME} narrow", um] = narrow
    return conditions


def blur_tag(name: str) -> str:
    """A blur's name as it appears in the last line's keys."""
    return name.replace("NA ", "na").replace(".", "").replace(" ", "_")


def judge(
    model,
    reference: np.ndarray,
    observed: np.ndarray,
    operator: dict[int, np.ndarray],
    segmentation: SegmentationConfig = SEGMENTATION,
):
    """One plane through the screen path's one-plane comparison against ``reference``
    (labels of the plane it was made from), checked with ``operator`` (``dz -> kernel``,
    one offset): ``(row, objects)``."""
    observed = observed.astype(np.float32)
    restored = restore_planes(model, observed[None], [0], RestoreConfig())[0]
    result = compare_single_plane(
        REF, observed, restored.astype(np.float32), segmentation, reference, operator, [*operator]
    )
    return result.planes.iloc[0], result.objects[result.objects["source"] == "restored"]


def model_operator(distance_um: int) -> dict[int, np.ndarray]:
    """The operator a real plate's check would hold for a plane ``distance_um`` from focus:
    the model's kernel at the default optics, keyed by the offset in planes."""
    dz = round(distance_um / Optics().z_step_um)
    return {dz: physical_kernel(Optics(), -distance_um, KERNEL_PX)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="a trained restoration checkpoint")
    parser.add_argument(
        "--reference",
        default="../results/wholestack/segmentation/restormer/fields.parquet",
        help="the training plate's fields table (held-out planes: reliable range, consistency)",
    )
    parser.add_argument(
        "--declump",
        choices=DECLUMP,
        default=SEGMENTATION.declump,
        help="segmentation.declump for every plane, reference included",
    )
    add_diameter_argument(parser)
    parser.add_argument("--fields", type=int, default=8, help="near-focus planes to use (1-8)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    near_pair, far_pair = real_pair()
    calibration = REALDATA / "bbbc006_calibration" / "near_focus"
    nears = [iio.imread(p) for p in sorted(calibration.glob("*.png")) if "a01__" not in p.name]
    nears = nears[: args.fields]
    fars = [tifffile.imread(p) for p in sorted(REALDATA.glob("bbbc006/*_z_00/*.tif"))]
    far_noise = [noise_sigma(far) for far in fars]
    noise = float(np.median(far_noise))
    conditions = blurs(near_pair, far_pair)
    scale = pair_scale(near_pair, far_pair, conditions["measured", 32])
    model, _ = load_model(args.checkpoint)
    segmentation = replace(SEGMENTATION, declump=args.declump)
    references = [
        segment_planes([near.astype(np.float64)], with_diameter(segmentation, near))[0]
        for near in nears
    ]
    segmentation = with_real_plate_diameter(segmentation, args.diameter)
    operators = {um: model_operator(um) for um in DISTANCES_UM}
    rows, objects, observed_far = [], [], {}
    for (name, um), kernel in conditions.items():
        for i, (near, reference) in enumerate(zip(nears, references, strict=True)):
            observed = defocused(near, kernel, scale, noise, seed=i)
            if um == LIKENESS_UM:
                observed_far.setdefault(name, []).append(observed)
            row, table = judge(model, reference, observed, operators[um], segmentation)
            key = dict(plate=f"{name} {um} um", site=i, blur=name, distance_um=um)
            rows.append(dict(row, **key))
            objects.append(table.assign(**key))
    planes, objects = pd.DataFrame(rows), pd.concat(objects, ignore_index=True)
    objects = objects.assign(confident=objects["reliable"].astype(bool))
    planes, objects = as_real_plate(planes, objects, pd.read_parquet(args.reference))
    print(
        f"{len(nears)} real near-focus planes, blurred, scaled (gain {scale[0]:.3f}, offset "
        f"{scale[1]:.0f}), noise to {noise:.2f} (median of {len(far_noise)} real z = 00 "
        f"planes); {time.perf_counter() - t0:.0f} s\n"
    )
    summary = summarise(planes, objects)
    print(summary.round(3).to_markdown(index=False))
    real = (fars, *real_z00(fars, model, segmentation))
    likeness = blur_likeness(observed_far, planes, objects, real)
    print(f"\nWhich blur the real z = 00 planes are like ({LIKENESS_UM} um; ratios to real):\n")
    print(likeness.round(3).to_markdown(index=False))
    keys = [
        f"{figure}_ratio_{blur_tag(r.blur)}={getattr(r, figure + '_ratio'):.3f}"
        for r in likeness.itertuples()
        if r.blur != REAL_NAME
        for figure in ("hwhm", "restored_per_raw")
    ]
    for r in summary.itertuples():
        tag = f"{blur_tag(r.blur)}_{r.distance_um}"
        keys += [
            f"raw_f1_{tag}={r.f1_raw:.3f}",
            f"restored_f1_{tag}={r.f1_restored:.3f}",
            f"real_given_confident_{tag}={r.real_given_confident:.3f}",
            f"reliable_{tag}={int(r.reliable)}",
        ]
    print(" ".join(keys))


def real_z00(
    fars: list[np.ndarray], model, segmentation: SegmentationConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The real z = 00 planes through the same one-plane comparison (no reference, no
    operator): ``(rows, restored objects)``."""
    rows, objects = [], []
    for far in fars:
        plane = far.astype(np.float32)
        restored = restore_planes(model, plane[None], [0], RestoreConfig())[0]
        result = compare_single_plane(REF, plane, restored.astype(np.float32), segmentation, None)
        rows.append(result.planes.iloc[0])
        objects.append(result.objects[result.objects["source"] == "restored"])
    return pd.DataFrame(rows), pd.concat(objects, ignore_index=True)


def blur_likeness(
    observed_far: dict[str, list[np.ndarray]],
    planes: pd.DataFrame,
    objects: pd.DataFrame,
    real: tuple[list[np.ndarray], pd.DataFrame, pd.DataFrame],
) -> pd.DataFrame:
    """Per blur at ``LIKENESS_UM``, and for the real z = 00 planes: isolated nuclei's half
    width (px) and peak over background, objects per raw plane, the diameter estimated
    from it (px), restored objects per raw object and the restored objects' median
    equivalent diameter (px); the ratios of the first, second, fifth and sixth to real."""
    at = planes["distance_um"] == LIKENESS_UM
    sources = {
        name: (
            observed,
            planes[at & (planes["blur"] == name)],
            objects[(objects["distance_um"] == LIKENESS_UM) & (objects["blur"] == name)],
        )
        for name, observed in observed_far.items()
    }
    sources[REAL_NAME] = real
    rows = []
    for name, (observed, rows_of, restored) in sources.items():
        isolated = defocused_figures(observed)
        rows.append(
            dict(
                blur=name,
                hwhm=isolated["isolated_hwhm_px"],
                peak_over_background=isolated["isolated_peak_over_background"],
                raw_objects=float(rows_of["count_raw"].median()),
                raw_diameter=float(np.nanmedian([estimate_diameter(p, 2.0, 5) for p in observed])),
                restored_per_raw=rows_of["count_restored"].sum() / rows_of["count_raw"].sum(),
                restored_diameter=float(np.median(2 * np.sqrt(restored["area_px"] / np.pi))),
            )
        )
    table = pd.DataFrame(rows)
    real_row = table[table["blur"] == REAL_NAME].iloc[0]
    for figure in ("hwhm", "peak_over_background", "restored_per_raw", "restored_diameter"):
        table[f"{figure}_ratio"] = table[figure] / real_row[figure]
    return table


def as_real_plate(
    planes: pd.DataFrame, objects: pd.DataFrame, reference: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The plane verdicts the summary stage gives a plate without truth, as
    ``pipeline.segment.summarise_segmentation`` applies them: beyond the reliable range the
    training plate's held-out planes earned (each plane at its stated distance), or unlike
    those planes in consistency. The reference segmentation stays in ``real``."""
    planes = planes.assign(estimated_defocus_um=planes["distance_um"], truth="none")
    range_dz = reliable_range(reference)
    planes, objects = apply_reliable_range(planes, objects, range_dz, Optics().z_step_um)
    planes = planes.join(consistency_against_held_out(planes, reference))
    return apply_held_out_consistency(planes, objects)


def summarise(planes: pd.DataFrame, objects: pd.DataFrame) -> pd.DataFrame:
    """One row per (blur, distance): F1 (mean over planes), counts summed, the
    reliable objects and the fraction of them (and of the rest) that match a reference
    nucleus."""
    keys = ["blur", "distance_um"]
    counts = planes.groupby(keys, sort=False).agg(
        reference=("count_truth", "sum"),
        objects_raw=("count_raw", "sum"),
        objects_restored=("count_restored", "sum"),
        f1_raw=("f1_raw", "mean"),
        f1_restored=("f1_restored", "mean"),
        consistency=("consistency_score", "median"),
        beyond_range=("beyond_reliable_range", "sum"),
        unlike_held_out=("unlike_held_out", "sum"),
    )
    objects = objects.assign(
        reliable=objects["reliable"].astype(bool), real=objects["real"].astype(float)
    )
    reliable = objects.groupby(keys, sort=False).apply(
        lambda g: pd.Series(
            dict(
                confident=int(g["confident"].sum()),
                real_given_confident=_mean(g.loc[g["confident"], "real"]),
                real_given_not_confident=_mean(g.loc[~g["confident"], "real"]),
                reliable=int(g["reliable"].sum()),
                real_given_reliable=_mean(g.loc[g["reliable"], "real"]),
            )
        ),
        include_groups=False,
    )
    return counts.join(reliable).reset_index()


def _mean(values: pd.Series) -> float:
    return float(values.mean()) if len(values) else float("nan")


if __name__ == "__main__":
    main()
