"""Rules of ``workflow/rules/segment.smk``: segmentation of raw, restored and in-focus
planes per block of wells, the summary tables, and the comparison figures."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from platefocus.io.atomic import merge_tables, read_table, write_table
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
) -> None:
    """Segment raw, restored and in-focus planes of every field (of one block of wells).

    ``pairs_path``: the plate's pair table, whose split says which wells training held
    out; None for a plate that did not train, whose wells are all held out (``test``).
    ``operator_path``: the training plate's defocus kernels (``operator.npz``): each
    restored plane is then checked against its observation (hallucination flags)."""
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
) -> None:
    """Join the per-block comparison tables and summarise them by split and |dz|."""
    from platefocus.compare.segmentation import summarise

    merge_tables(block_fields, out_fields)
    merge_tables(block_objects, out_objects)
    summary = summarise(read_table(out_fields))
    write_table(summary, out_summary)
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
    from platefocus.compare.segmentation import example_fields
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
