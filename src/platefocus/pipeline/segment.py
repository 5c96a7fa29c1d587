"""Rules of ``workflow/rules/segment.smk``: segmentation of raw, restored and in-focus
planes per block of wells, the summary tables, and the comparison figures."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from platefocus.io.atomic import concat_tables, read_table, write_table
from platefocus.io.blocks import block_manifest
from platefocus.segment.nuclei import SegmentationConfig

log = logging.getLogger(__name__)


def compare_segmentation(
    plate_path: str | Path,
    restored_path: str | Path,
    manifest_path: str | Path,
    best_path: str | Path,
    pairs_path: str | Path | None,
    segmentation: dict,
    channel: int,
    truth_root: str | Path | None,
    out_fields: str | Path,
    out_objects: str | Path,
    workers: int = 1,
    blocks_path: str | Path | None = None,
    block: int | None = None,
    dask_settings: dict | None = None,
    operator_path: str | Path | None = None,
    projection_regularisation: float | None = 1.0,
    z_step_um: float | None = None,
    single_plane_defocus_um: float | None = None,
    reference_fields: str | Path | None = None,
) -> None:
    """Segment raw, restored and in-focus planes of every field (of one block of wells).

    ``pairs_path``: the plate's pair table, whose split says which wells training held
    out; None for a plate that did not train, whose wells are all held out (``test``).
    ``operator_path``: the training plate's defocus kernels (``operator.npz``): each
    restored plane is then checked against its observation (hallucination flags); the
    plane of a one-plane field at its estimated distance from focus, else
    ``single_plane_defocus_um`` (over ``z_step_um``, both micrometres).
    ``reference_fields``: the comparison of the model's training plate, whose in-focus
    nuclear size a one-plane field takes where ``segmentation.diameter_px`` is ``auto``."""
    from platefocus.compare.distance import SinglePlaneDistance
    from platefocus.compare.reliability import in_focus_diameter_px
    from platefocus.compare.segmentation import compare_plate

    if pairs_path is None:
        wells = pd.read_parquet(manifest_path)["well"].unique()
        pairs = pd.DataFrame({"well": wells, "split": "test"})
    else:
        pairs = pd.read_parquet(pairs_path)
    result = compare_plate(
        plate_path,
        restored_path,
        block_manifest(manifest_path, blocks_path, block),
        pd.read_parquet(best_path),
        SegmentationConfig.from_config(segmentation),
        channel=channel,
        truth_root=truth_root,
        splits=dict(zip(pairs["well"], pairs["split"], strict=True)),
        kernels=_kernels(operator_path),
        projection_regularisation=projection_regularisation,
        workers=workers,
        dask_settings=dask_settings,
        single_plane=SinglePlaneDistance(z_step_um, single_plane_defocus_um) if z_step_um else None,
        in_focus_diameter_px=(
            in_focus_diameter_px(read_table(reference_fields)) if reference_fields else None
        ),
    )
    write_table(result.planes, out_fields)
    write_table(result.objects, out_objects)
    log.info("compared %d planes, %d objects", len(result.planes), len(result.objects))


def _kernels(operator_path: str | Path | None) -> dict | None:
    if not operator_path:
        return None
    from platefocus.consistency.stack import load_kernels

    return load_kernels(operator_path, "estimated")


def summarise_segmentation(
    block_fields: list[str | Path],
    block_objects: list[str | Path],
    out_fields: str | Path,
    out_objects: str | Path,
    out_summary: str | Path,
    out_reliability: str | Path | None = None,
    reference_fields: str | Path | None = None,
    z_step_um: float | None = None,
    reliability: dict | None = None,
) -> None:
    """Join the per-block comparison tables, judge every plane against the reliable range
    (from this plate's held-out wells, or ``reference_fields``: the comparison of the
    plate the model trained on; a plane of one per field by its estimated defocus over
    ``z_step_um``) and summarise by split and |dz|; with
    ``out_reliability``, the reliability table of the objects' confidence. Each plane's
    consistency score is also set against the held-out planes' at its distance
    (:func:`platefocus.compare.reliability.consistency_against_held_out`); a plane
    without truth that explains its observation worse than every held-out plane keeps no
    reliable object (:func:`~platefocus.compare.reliability.apply_held_out_consistency`).
    ``reliability``: the workflow's section (``min_f1``; ``single_plane_defocus_um``, the
    stated distance of single planes whose distance was not estimated)."""
    from platefocus.compare.distance import SinglePlaneDistance
    from platefocus.compare.reliability import (
        MIN_F1,
        apply_held_out_consistency,
        apply_reliable_range,
        consistency_against_held_out,
        reliability_table,
        reliable_range,
    )
    from platefocus.compare.segmentation import summarise

    planes = concat_tables(block_fields)
    objects = concat_tables(block_objects)
    reliability = reliability or {}
    reference = read_table(reference_fields) if reference_fields else planes
    range_dz = reliable_range(reference, reliability.get("min_f1", MIN_F1))
    if "estimated_defocus_um" in planes:  # a single plane: estimated, else stated
        single = planes["dz"].isna()
        stated = reliability.get("single_plane_defocus_um")
        distance = SinglePlaneDistance(z_step_um or np.nan, stated)
        planes.loc[single, "estimated_defocus_um"] = distance.distance_um(
            planes.loc[single, "estimated_defocus_um"].to_numpy(dtype=float)
        )
    planes, objects = apply_reliable_range(planes, objects, range_dz, z_step_um)
    planes = planes.join(consistency_against_held_out(planes, reference))
    planes, objects = apply_held_out_consistency(planes, objects)
    write_table(planes, out_fields)
    write_table(objects, out_objects)
    summary = summarise(planes)
    write_table(summary, out_summary)
    if out_reliability:
        write_table(reliability_table(objects), out_reliability)
    log.info("reliable range: %s planes from focus", "unknown" if range_dz is None else range_dz)
    log.info("comparison by split and |dz|:\n%s", summary.round(3).to_string(index=False))


def plot_comparison(
    plate_path: str | Path,
    restored_path: str | Path,
    manifest_path: str | Path,
    fields_path: str | Path,
    best_path: str | Path,
    segmentation: dict,
    channel: int,
    out_ssim: str | Path,
    out_counts: str | Path,
    out_heatmaps: str | Path,
    out_examples: str | Path,
) -> None:
    """Comparison figures, with example panels from held-out wells when there are any."""
    from platefocus.compare.examples import example_fields
    from platefocus.report import segmentation as figures
    from platefocus.report.style import save_figure

    planes = pd.read_parquet(fields_path)
    save_figure(figures.paired_ssim(planes), out_ssim)
    save_figure(figures.counts_per_well(planes), out_counts)
    save_figure(figures.gain_heatmaps(planes, pd.read_parquet(best_path)), out_heatmaps)
    examples = example_fields(
        plate_path,
        restored_path,
        pd.read_parquet(manifest_path),
        planes,
        SegmentationConfig.from_config(segmentation),
        channel,
    )
    save_figure(figures.example_panels(examples), out_examples)


def train_segmenter(
    tables: list[str | Path],
    truth_roots: list[str | Path],
    plates: list[str],
    channel: int,
    settings: dict,
    out_model: str | Path,
) -> None:
    """Train a Cellpose model from scratch on the true masks of the training plates'
    training wells (their pair tables' ``train`` split), ``settings`` the
    ``segmentation.cellpose`` section; the weights at ``out_model``, their description
    beside them (``<out_model>.json``)."""
    import tifffile

    from platefocus.errors import InputError
    from platefocus.segment.train_cellpose import train_cellpose, truth_files

    images, labels, used = [], [], []
    for table, root, plate in zip(tables, truth_roots, plates, strict=True):
        pairs = pd.read_parquet(table)
        train = pairs[pairs["split"] == "train"][["well", "site"]].drop_duplicates()
        for well, site in train.itertuples(index=False):
            image, label = truth_files(root, plate, well, int(site), channel)
            if not (image.exists() and label.exists()):
                raise InputError(label, "no true masks: train_segmenter needs a synthetic plate")
            images.append(tifffile.imread(image))
            labels.append(tifffile.imread(label))
            used.append(f"{plate} {well} s{site}")
    if not images:
        raise InputError(tables[0], "no training wells to train the segmenter on")
    log.info("training a Cellpose segmenter on %d in-focus planes", len(images))
    description = train_cellpose(
        images,
        labels,
        out_model,
        epochs=settings["epochs"],
        learning_rate=settings["learning_rate"],
        batch_size=settings["batch_size"],
        seed=settings["seed"],
        provenance={"trained_on": plates, "fields": used, "channel": channel},
    )
    log.info("segmenter: %s", description)
