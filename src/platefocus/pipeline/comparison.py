"""Rules of ``workflow/rules/comparison.smk``: every trained architecture side by side."""

from __future__ import annotations

import logging
from pathlib import Path

from platefocus.errors import InputError
from platefocus.io.atomic import write_table
from platefocus.pipeline.common import with_run_time

log = logging.getLogger(__name__)


def compare_models(
    names: list[str],
    checkpoints: list[str | Path],
    timings: list[str | Path],
    metrics_by_dz: list[str | Path],
    segmentation_fields: list[str | Path],
    restore: dict,
    comparison: dict,
    out_table: str | Path,
    out_figure: str | Path,
    threads: int = 1,
    run_time: dict | None = None,
) -> None:
    """The model comparison table and figure (see :mod:`platefocus.compare.models`)."""
    restore = with_run_time(restore, run_time or {})  # threads, device, prefetch
    from platefocus.compare.models import compare_models as compare
    from platefocus.model_io.checkpoint import read_model_info
    from platefocus.report.models import model_comparison
    from platefocus.report.style import save_figure
    from platefocus.restore.settings import RestoreConfig

    table = compare(
        names,
        checkpoints,
        timings,
        metrics_by_dz,
        segmentation_fields,
        RestoreConfig.from_config(restore, read_model_info(checkpoints[0]).percentiles),
        inference_side=comparison["inference_side"],
        repeats=comparison["repeats"],
        threads=threads,
    )
    write_table(table, out_table)
    save_figure(model_comparison(table), out_figure)
    log.info("model comparison:\n%s", table.round(3).to_string(index=False))


def compare_offsets(
    names: list[str],
    segmentation_fields: list[str | Path],
    restored_plates: list[str | Path],
    plate_path: str | Path,
    manifest_path: str | Path,
    z_step_um: float,
    dataset: dict,
    channel: int,
    comparison: dict,
    out_table: str | Path,
    out_figure: str | Path,
    out_examples: str | Path,
) -> None:
    """Every model and the input per signed plane offset in micrometres (table and
    figure, :mod:`platefocus.compare.offsets`), and example planes restored by each model
    beside the truth (:mod:`platefocus.compare.examples`)."""
    import pandas as pd

    from platefocus.compare.examples import restored_examples
    from platefocus.compare.offsets import offset_table, offsets_wide
    from platefocus.dataset.pairs import DatasetConfig
    from platefocus.report.models import metrics_by_offset
    from platefocus.report.models import restored_examples as examples_figure
    from platefocus.report.style import save_figure

    pairs = DatasetConfig.from_config(dataset, (1, 1), channel)
    table = offset_table(names, segmentation_fields, z_step_um, pairs.trains_on)
    write_table(table, out_table)
    save_figure(metrics_by_offset(table), out_figure)
    log.info("per offset:\n%s", offsets_wide(table).round(3).to_string(index=False))
    examples = restored_examples(
        plate_path,
        restored_plates,
        names,
        pd.read_parquet(manifest_path),
        pd.read_parquet(segmentation_fields[0]),
        channel,
        z_step_um,
        comparison.get("example_z"),
    )
    if not examples:
        raise InputError(
            "comparison.example_z",
            f"{comparison.get('example_z')}: no held-out field has these planes restored "
            "(restore.planes)",
        )
    save_figure(examples_figure(examples), out_examples)
