"""Rules of ``workflow/rules/focus.smk``: focus scores, best planes and training targets
per block of wells, their merge, and the focus figures."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from platefocus.errors import InputError
from platefocus.io.atomic import merge_tables, write_table
from platefocus.io.blocks import block_manifest

log = logging.getLogger(__name__)


def score_focus(
    plate_path: str | Path,
    manifest_path: str | Path,
    out_scores: str | Path,
    grid: list[int],
    window: int,
    workers: int = 1,
    blocks_path: str | Path | None = None,
    block: int | None = None,
    dask_settings: dict | None = None,
) -> None:
    """Score every plane of every field and tile (of one block of wells, if given); a
    field with a damaged chunk is an error naming it (:mod:`platefocus.io.verify`)."""
    from platefocus.focus.plate import score_plate
    from platefocus.io.fields import list_fields
    from platefocus.io.verify import require_whole

    manifest = block_manifest(manifest_path, blocks_path, block)
    require_whole(plate_path, [ref.path for ref in list_fields(manifest)])
    scores = score_plate(
        plate_path,
        manifest,
        grid=grid,
        window=window,
        workers=workers,
        dask_settings=dask_settings,
    )
    write_table(scores, out_scores)
    log.info("scored %d planes x regions into %s", len(scores), out_scores)


def select_targets(
    plate_path: str | Path,
    manifest_path: str | Path,
    scores_path: str | Path,
    out_best: str | Path,
    out_targets: str | Path,
    focus: dict,
    targets: dict,
    segmentation: dict,
    workers: int = 1,
    blocks_path: str | Path | None = None,
    block: int | None = None,
    dask_settings: dict | None = None,
    judge_targets: bool = True,
) -> None:
    """Choose the best plane of every region, then judge every tile as a training target
    (``judge_targets``; a plate that does not train gets an empty target table)."""
    from platefocus.focus.bestplane import BestPlaneConfig
    from platefocus.focus.plate import plate_best_planes, select_plate_targets
    from platefocus.focus.targets import TargetConfig
    from platefocus.segment.nuclei import SegmentationConfig

    scores = pd.read_parquet(scores_path)
    best = plate_best_planes(scores, BestPlaneConfig.from_config(focus))
    if not judge_targets:
        write_table(best, out_best)
        write_table(pd.DataFrame(), out_targets)
        log.info("best planes of %d regions; not a training plate: no targets", len(best))
        return
    verdicts = select_plate_targets(
        plate_path,
        block_manifest(manifest_path, blocks_path, block),
        best,
        grid=focus["grid"],
        channel=focus["target_channel"],
        segmentation=SegmentationConfig.from_config(segmentation),
        config=TargetConfig.from_config(targets),
        workers=workers,
        dask_settings=dask_settings,
    )
    write_table(best, out_best)
    write_table(verdicts, out_targets)
    log.info(
        "best planes of %d regions; %d of %d tiles kept as targets",
        len(best),
        int(verdicts["keep"].sum()) if len(verdicts) else 0,
        len(verdicts),
    )


def merge_focus(parts: dict[str, list[str | Path]], outputs: dict[str, str | Path]) -> None:
    """Join the per-block tables of each kind (``parts[name]`` -> ``outputs[name]``)."""
    for name, paths in parts.items():
        merge_tables(paths, outputs[name])


def focus_accuracy(
    best_path: str | Path, truth_root: str | Path, out_table: str | Path, channel: int = 1
) -> None:
    """Compare chosen best planes with the synthetic plate's true best planes."""
    from platefocus.focus.bestplane import compare_to_truth

    truth_csv = Path(truth_root) / "best_planes.csv"
    if not truth_csv.exists():
        raise InputError(truth_csv, "no true best planes here (truth.root is wrong?)")
    table = compare_to_truth(pd.read_parquet(best_path), pd.read_csv(truth_csv), channel)
    write_table(table, out_table)
    log.info(
        "best plane within one plane of truth for %.1f%% of %d regions with objects",
        100 * table["within_one"].mean() if len(table) else float("nan"),
        len(table),
    )


def plot_focus(
    plate_path: str | Path,
    manifest_path: str | Path,
    scores_path: str | Path,
    best_path: str | Path,
    targets_path: str | Path,
    focus: dict,
    out_curves: str | Path,
    out_plate: str | Path,
    out_field_map: str | Path,
) -> None:
    """Write the focus QC figures: curves, plate heat maps, the first field's focus map."""
    import numpy as np

    from platefocus.focus.fieldmap import field_focus_map
    from platefocus.io.fields import field_array, list_fields
    from platefocus.report import focus as figures
    from platefocus.report.style import save_figure

    scores = pd.read_parquet(scores_path)
    best = pd.read_parquet(best_path)
    save_figure(figures.focus_curves(scores, best, focus["metric"]), out_curves)
    save_figure(figures.plate_heatmaps(best, pd.read_parquet(targets_path)), out_plate)

    ref = list_fields(pd.read_parquet(manifest_path))[0]
    row = best[
        (best["well"] == ref.well)
        & (best["site"] == ref.site)
        & (best["region"] == "field")
        & (best["channel"] == ref.channels[0])
    ]
    plane = ref.z_indices.index(int(row["best_z"].iloc[0]))
    stack = np.asarray(field_array(plate_path, ref)[0])
    edges, local = field_focus_map(stack, plane, ref.z_indices, focus["min_contrast"])
    title = f"{ref.well} site {ref.site}, best plane z={ref.z_indices[plane]}"
    save_figure(figures.field_focus_map(stack[plane], edges, local, title), out_field_map)


def plot_focus_accuracy(accuracy_path: str | Path, out_figure: str | Path) -> None:
    """Histogram of chosen minus true best planes."""
    from platefocus.report.focus import accuracy_histogram
    from platefocus.report.style import save_figure

    save_figure(accuracy_histogram(pd.read_parquet(accuracy_path)), out_figure)
