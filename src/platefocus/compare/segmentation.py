"""Segmentation and image quality before and after restoration, per field and plane.

For every restored plane of every field the same segmentation runs on three images: the
raw defocused plane, the restored plane, and the in-focus truth (the field's best plane;
for a synthetic plate the true label masks are the object truth). Counts, one-to-one
matching against the truth objects (IoU > 0.5), and PSNR/SSIM against the best plane are
recorded, plus one row per object.

A field of one plane (a screen plate acquired fast) has no in-focus reference: its raw and
restored plane are segmented and their counts and sharpness (mean Tenengrad) recorded;
F1 only against true labels (a synthetic plate's), and no PSNR/SSIM (``reference`` says
``none``). With the defocus operator and the plane's distance from focus (estimated, or
stated by the acquisition), it is checked against its observation as a stack's planes are.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

import dask
import numpy as np
import pandas as pd
import tifffile
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from skimage.segmentation import clear_border

from platefocus.compare.distance import SinglePlaneDistance
from platefocus.compare.objects import object_rows, objects_table
from platefocus.dataset.normalise import intensity_span, percentile_range
from platefocus.focus.metrics import gradient_energy
from platefocus.io.fields import FieldRef, list_fields, read_field_channel
from platefocus.io.omezarr import open_image, read_platefocus_attrs
from platefocus.parallel import compute
from platefocus.segment.matching import match_objects
from platefocus.segment.nuclei import SegmentationConfig, diameter_range, with_diameter
from platefocus.segment.planes import segment_planes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FieldComparison:
    """The rows of one field: one per restored plane, and one per segmented object."""

    planes: pd.DataFrame
    objects: pd.DataFrame


def image_quality(image: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """``(psnr, ssim)`` of an image against the in-focus reference, in raw intensities.

    The data range is the reference's percentile span, as in training
    (:mod:`platefocus.dataset.normalise`).
    """
    rng = intensity_span(*percentile_range(reference))
    a, b = image.astype(np.float64), reference.astype(np.float64)
    with np.errstate(divide="ignore"):  # the in-focus plane itself: PSNR inf, no warning
        psnr = float(peak_signal_noise_ratio(b, a, data_range=rng))
    return (
        psnr,
        float(structural_similarity(b, a, data_range=rng, win_size=7)),
    )


def compare_field(
    raw_plate: str | os.PathLike,
    restored_plate: str | os.PathLike,
    ref: FieldRef,
    channel: int,
    best_z: int,
    segmentation: SegmentationConfig,
    truth_labels: np.ndarray | None = None,
    kernels: dict[int, np.ndarray] | None = None,
    projection_regularisation: float | None = 1.0,
    single_plane: SinglePlaneDistance | None = None,
    in_focus_diameter_px: float | None = None,
) -> FieldComparison:
    """Compare raw, restored and in-focus planes of one field (see module docstring).
    With ``kernels`` (the defocus operator, ``dz -> kernel``), each restored plane whose
    offset has a kernel is checked against its observation (:func:`platefocus.consistency.
    planes.plane_consistency`: consistency columns per plane, ``support`` and ``flagged``
    per object), and measured after the projection (``*_projected``)."""
    stack = read_field_channel(raw_plate, ref, ref.channels.index(channel))
    restored = np.asarray(open_image(restored_plate, ref.path)[0])
    meta = read_platefocus_attrs(restored_plate, ref.path)
    if len(stack) == 1:
        plane_args = (truth_labels, kernels, single_plane, in_focus_diameter_px)
        return _single_plane_field(ref, stack[0], restored[0], meta, segmentation, *plane_args)
    best = stack[ref.z_indices.index(best_z)]
    # One diameter range per field (from the in-focus plane): identical settings for all.
    segmentation = with_diameter(segmentation, best)
    compared, raws, best_labels, raw_all, out_all = _segment_field(
        stack, restored, best, ref, meta, segmentation
    )
    truth = clear_border(truth_labels) if truth_labels is not None else best_labels
    truth_source = "true labels" if truth_labels is not None else "best plane"
    expected_diameter = expected_diameter_px(best_labels, segmentation)
    rows, objects = [], []
    key = dict(plate=ref.plate, well=ref.well, site=ref.site)
    objects += [dict(key, dz=0, **r) for r in object_rows(best_labels, best, "best_plane")]
    for (i, z, dz), raw, raw_labels, out_labels in zip(
        compared, raws, raw_all, out_all, strict=True
    ):
        out = restored[i]
        m_raw, m_out = match_objects(truth, raw_labels), match_objects(truth, out_labels)
        psnr_raw, ssim_raw = image_quality(raw, best)
        psnr_out, ssim_out = image_quality(out, best)
        dz = dz if dz is not None else z - best_z
        consistency, support = _consistency(raw, out, out_labels, kernels, dz, truth_labels)
        confidence = _confidence(out_labels, raw_labels, expected_diameter, support, truth_labels)
        if consistency:
            kernel, lam = kernels[int(dz)], projection_regularisation
            sigma = consistency["noise_sigma"]
            consistency.update(_projected(raw, out, kernel, lam, sigma, best, truth, segmentation))
        rows.append(
            dict(
                key,
                dz=dz,
                z=z,
                best_z=best_z,
                count_raw=m_raw.n_pred,
                count_restored=m_out.n_pred,
                count_truth=m_raw.n_true,
                count_best_plane=int(best_labels.max()),
                count_reliable=int(sum(c["reliable"] for c in confidence.values())),
                **_match_columns(m_raw, m_out),
                ssim_raw=ssim_raw,
                ssim_restored=ssim_out,
                psnr_raw=psnr_raw,
                psnr_restored=psnr_out,
                sharpness_raw=_sharpness(raw),
                sharpness_restored=_sharpness(out),
                truth=truth_source,
                reference="best plane",
                expected_diameter_px=expected_diameter,
                **consistency,
            )
        )
        objects += [dict(key, dz=dz, **r) for r in object_rows(raw_labels, raw, "raw")]
        objects += [
            dict(key, dz=dz, **r, **support.get(r["label"], {}), **confidence[r["label"]])
            for r in object_rows(out_labels, out, "restored")
        ]
    return _with_selection(FieldComparison(pd.DataFrame(rows), objects_table(objects, key)), meta)


def _segment_field(stack, restored, best, ref, meta, segmentation):
    """Every compared plane of a field segmented in one call (one batch for a learned
    segmenter): ``(compared (i, z, dz), raw planes, in-focus labels, raw labels,
    restored labels)``."""
    compared = [
        (i, z, dz) for i, (z, dz) in enumerate(zip(meta["source_z"], meta["dz"], strict=True))
        if z is not None
    ]  # fmt: skip
    raws = [stack[ref.z_indices.index(z)] for _, z, _ in compared]
    labels = segment_planes([best, *raws, *(restored[i] for i, _, _ in compared)], segmentation)
    n = len(raws)
    return compared, raws, labels[0], labels[1 : 1 + n], labels[1 + n :]


def _consistency(raw, restored, labels, kernels, dz, truth_labels) -> tuple[dict, dict]:
    """The consistency columns of one plane and ``label -> {support, flagged, [real]}``
    (nothing without a kernel for ``dz``)."""
    if not kernels or int(dz) not in kernels:
        return {}, {}
    from platefocus.consistency.planes import plane_consistency

    truth = clear_border(truth_labels) if truth_labels is not None else None
    plane, objects, _ = plane_consistency(raw, restored, labels, kernels[int(dz)], truth)
    columns = [c for c in ("support", "flagged", "real") if c in objects]
    return plane, objects.set_index("label")[columns].to_dict("index")


def expected_diameter_px(best_labels: np.ndarray, segmentation: SegmentationConfig) -> float:
    """The field's in-focus nuclear diameter, pixels: the median equivalent diameter of the
    in-focus plane's objects, else the middle (geometric) of the segmentation's range."""
    count = int(best_labels.max())
    if count:
        area = ndimage.sum_labels(np.ones(best_labels.shape), best_labels, range(1, count + 1))
        return float(np.median(np.sqrt(4 * np.asarray(area) / np.pi)))
    return _range_middle(segmentation.diameter_px or segmentation.fallback_diameter_px)


def _range_middle(diameter_px: tuple[int, int]) -> float:
    """The geometric middle of a diameter range, pixels."""
    low, high = diameter_px
    return float(np.sqrt(low * high))


def _confidence(out_labels, raw_labels, expected, support, truth_labels) -> dict[int, dict]:
    """``label -> {confidence columns, [real]}`` of one restored plane
    (:func:`platefocus.consistency.confidence.object_confidence`); ``real`` (matched one to
    one to a true object) with true labels, when the consistency check did not add it."""
    from platefocus.consistency.confidence import object_confidence
    from platefocus.segment.matching import matched_predictions

    held = pd.Series({k: v["support"] for k, v in support.items() if "support" in v})
    table = object_confidence(out_labels, raw_labels, expected, held).set_index("label")
    if truth_labels is not None and not any("real" in v for v in support.values()):
        truth = clear_border(truth_labels)
        table["real"] = matched_predictions(truth, out_labels, table.index.to_numpy())
    return table.to_dict("index")


def _projected(raw, restored, kernel, lam, sigma, best, truth, segmentation) -> dict:
    """Quality of the restored plane after the data-consistency projection (DDNM's
    range-null decomposition, :func:`platefocus.consistency.projection.project`) with
    Tikhonov ``lam`` (None: DDNM+'s noise level, from the plane's noise ``sigma``):
    ``psnr/ssim/f1/count_projected``."""
    from platefocus.consistency.projection import noise_regularisation, project

    if lam is None:
        lam = noise_regularisation(raw, sigma)
    projected = project(restored, raw, kernel, lam)
    labels = segment_planes([projected], segmentation)[0]
    psnr, ssim = image_quality(projected, best)
    return dict(
        psnr_projected=psnr,
        ssim_projected=ssim,
        f1_projected=match_objects(truth, labels).f1,
        count_projected=int(labels.max()),
    )


def _with_selection(comparison: FieldComparison, meta: dict) -> FieldComparison:
    """Add, per compared plane, whether it was restored or copied (selective restoration)
    and its estimated distance from focus (um)."""
    present = [i for i, z in enumerate(meta["source_z"]) if z is not None]
    restored = meta.get("restored", [True] * len(meta["source_z"]))
    defocus = meta.get("estimated_defocus_um", [None] * len(meta["source_z"]))
    planes = comparison.planes.assign(
        restored=[bool(restored[i]) for i in present],
        estimated_defocus_um=[np.nan if defocus[i] is None else defocus[i] for i in present],
    )
    return FieldComparison(planes, comparison.objects)


def _match_columns(raw, restored) -> dict[str, float]:
    """F1, precision and recall of the raw and the restored segmentation (matches)."""
    return {
        f"{measure}_{name}": getattr(match, measure)
        for measure in ("f1", "precision", "recall")
        for name, match in (("raw", raw), ("restored", restored))
    }


def _sharpness(image: np.ndarray) -> float:
    """Mean Tenengrad (squared Sobel gradient) of a plane, intensity units squared."""
    return float(gradient_energy(image.astype(np.float64)).mean())


def _single_plane_field(
    ref: FieldRef,
    raw: np.ndarray,
    restored: np.ndarray,
    meta: dict,
    segmentation: SegmentationConfig,
    truth_labels: np.ndarray | None,
    kernels: dict[int, np.ndarray] | None,
    single_plane: SinglePlaneDistance | None,
    in_focus_diameter_px: float | None = None,
) -> FieldComparison:
    """A field of one plane, checked (with ``kernels``) at its estimated distance from
    focus (restore's, in ``meta``), else the one ``single_plane`` states; not a plane
    that selective restoration copied (nothing was restored to check)."""
    estimated = meta.get("estimated_defocus_um", [None])[0]
    restored_here = meta.get("restored", [True])[0]
    checked = kernels and single_plane and restored_here
    offsets = single_plane.offsets(estimated) if checked else []
    single = compare_single_plane(
        ref, raw, restored, segmentation, truth_labels, kernels, offsets, in_focus_diameter_px
    )
    return _with_selection(single, meta)


def compare_single_plane(
    ref: FieldRef,
    raw: np.ndarray,
    restored: np.ndarray,
    segmentation: SegmentationConfig,
    truth_labels: np.ndarray | None,
    kernels: dict[int, np.ndarray] | None = None,
    offsets: list[int] | None = None,
    in_focus_diameter_px: float | None = None,
) -> FieldComparison:
    """A field of one plane: no in-focus plane to compare with. The objects' expected
    diameter, and the segmentation's range around it, is the in-focus size: the middle of
    ``segmentation.diameter_px`` when the setting gives it, else ``in_focus_diameter_px``
    (the model's training plate's in-focus planes measured it), else an estimate from the
    raw plane (a restored plane of split nuclei would set its own, too small, standard).
    A defocused plane's blobs measure larger than its nuclei in focus, so that last
    estimate favours swollen restored objects; the row says which it was
    (``expected_diameter_from``: ``setting``, ``training plate`` or ``raw plane``).

    With ``kernels`` and ``offsets`` (the plane's possible offsets from focus, planes),
    the restored plane is checked against its observation as a stack's planes are, with
    the kernel of the offset that gives the lower consistency score (``operator_dz``)."""
    expected_from = "setting" if segmentation.diameter_px is not None else "raw plane"
    inherited = in_focus_diameter_px is not None and np.isfinite(in_focus_diameter_px)
    if expected_from == "raw plane" and inherited:
        expected_from = "training plate"
        segmentation = replace(segmentation, diameter_px=diameter_range(in_focus_diameter_px))
    segmentation = with_diameter(segmentation, raw)
    expected = _range_middle(segmentation.diameter_px)
    raw_labels, out_labels = segment_planes([raw, restored], segmentation)
    key = dict(plate=ref.plate, well=ref.well, site=ref.site)
    nan = float("nan")
    row = dict(
        key,
        dz=nan,
        z=ref.z_indices[0],
        best_z=nan,
        count_raw=int(raw_labels.max()),
        count_restored=int(out_labels.max()),
        count_truth=nan,
        count_best_plane=nan,
        **{f"{m}_{s}": nan for m in ("f1", "precision", "recall") for s in ("raw", "restored")},
        ssim_raw=nan,
        ssim_restored=nan,
        psnr_raw=nan,
        psnr_restored=nan,
        sharpness_raw=_sharpness(raw),
        sharpness_restored=_sharpness(restored),
        truth="none",
        reference="none",
        expected_diameter_px=expected,
        expected_diameter_from=expected_from,
    )
    if truth_labels is not None:
        truth = clear_border(truth_labels)
        m_raw, m_out = match_objects(truth, raw_labels), match_objects(truth, out_labels)
        row.update(
            count_truth=m_raw.n_true,
            **_match_columns(m_raw, m_out),
            truth="true labels",
        )
    checks = [
        (dz, *_consistency(raw, restored, out_labels, kernels, dz, truth_labels))
        for dz in offsets or []
    ]
    checks = [c for c in checks if c[1]]  # offsets the operator has a kernel for
    support = {}
    if checks:
        dz, consistency, support = min(checks, key=lambda c: c[1]["consistency_score"])
        row.update(consistency, operator_dz=dz)
    confidence = _confidence(out_labels, raw_labels, expected, support, truth_labels)
    row["count_reliable"] = int(sum(c["reliable"] for c in confidence.values()))
    ratios = [c["size_ratio"] for c in confidence.values()]
    row["restored_size_ratio"] = float(np.median(ratios)) if ratios else nan
    objects = [dict(key, dz=nan, **r) for r in object_rows(raw_labels, raw, "raw")]
    objects += [
        dict(key, dz=nan, **r, **support.get(r["label"], {}), **confidence[r["label"]])
        for r in object_rows(out_labels, restored, "restored")
    ]
    return FieldComparison(pd.DataFrame([row]), objects_table(objects, key))


def compare_plate(
    raw_plate: str | os.PathLike,
    restored_plate: str | os.PathLike,
    manifest: pd.DataFrame,
    best: pd.DataFrame,
    segmentation: SegmentationConfig,
    channel: int = 1,
    truth_root: str | os.PathLike | None = None,
    splits: dict[str, str] | None = None,
    kernels: dict[int, np.ndarray] | None = None,
    projection_regularisation: float | None = 1.0,
    workers: int = 1,
    dask_settings: dict | None = None,
    progress: bool = True,
    single_plane: SinglePlaneDistance | None = None,
    in_focus_diameter_px: float | None = None,
) -> FieldComparison:
    """:func:`compare_field` for every field, as Dask tasks; adds the well's dataset split
    (``train``/``val``/``test``, ``unused`` if it gave no pairs) so that held-out wells
    can be reported on their own. ``kernels``: the defocus operator (consistency);
    ``single_plane``: the distance from focus of one-plane fields, for their check;
    ``in_focus_diameter_px``: their in-focus nuclear size where the setting does not give
    it (:func:`compare_single_plane`)."""
    field_best = best[(best["region"] == "field") & (best["channel"] == channel)]
    best_of = {
        (w, s): int(z)
        for w, s, z in zip(
            field_best["well"], field_best["site"], field_best["best_z"], strict=True
        )
    }
    tasks = []
    for ref in list_fields(manifest):
        labels = _truth_labels(truth_root, ref) if truth_root else None
        tasks.append(
            dask.delayed(compare_field)(
                raw_plate,
                restored_plate,
                ref,
                channel,
                best_of[(ref.well, ref.site)],
                segmentation,
                labels,
                kernels,
                projection_regularisation,
                single_plane,
                in_focus_diameter_px,
            )
        )
    results = compute(tasks, workers, dask_settings, progress)
    planes = pd.concat([r.planes for r in results], ignore_index=True)
    objects = pd.concat([r.objects for r in results], ignore_index=True)
    planes["split"] = planes["well"].map(splits or {}).fillna("unused")
    return FieldComparison(planes, objects)


def _truth_labels(truth_root: str | os.PathLike, ref: FieldRef) -> np.ndarray | None:
    """The synthetic plate's label image of a field, if it is there."""
    well = f"{ref.row.lower()}{ref.column:02d}"
    path = Path(truth_root) / f"{ref.plate}_{well}_s{ref.site}_labels.tif"
    return tifffile.imread(path) if path.exists() else None


def summarise(planes: pd.DataFrame) -> pd.DataFrame:
    """Headline numbers per split and |dz|: mean counts, F1, SSIM, PSNR, raw vs restored."""
    cols = [
        "count_raw",
        "count_restored",
        "count_truth",
        "f1_raw",
        "f1_restored",
        "ssim_raw",
        "ssim_restored",
        "psnr_raw",
        "psnr_restored",
        "sharpness_raw",
        "sharpness_restored",
    ]
    cols += [c for c in ("count_reliable",) if c in planes]
    frame = planes.assign(abs_dz=planes["dz"].abs())
    per = frame.groupby(["split", "abs_dz"])[cols].mean()
    overall = frame.groupby("split")[cols].mean().assign(abs_dz="all")
    out = pd.concat([per.reset_index(), overall.reset_index()], ignore_index=True)
    out["abs_dz"] = out["abs_dz"].astype(str)
    return out.sort_values(["split", "abs_dz"]).reset_index(drop=True)
