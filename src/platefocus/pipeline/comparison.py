"""Rules of ``workflow/rules/comparison.smk``: every trained architecture side by side."""

from __future__ import annotations

import logging
from pathlib import Path

from platefocus.io.atomic import write_table

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
) -> None:
    """The model comparison table and figure (see :mod:`platefocus.compare.models`)."""
    from platefocus.compare.models import compare_models as compare
    from platefocus.report.models import model_comparison
    from platefocus.report.style import save_figure
    from platefocus.restore.settings import RestoreConfig
    from platefocus.train.checkpoint import checkpoint_percentiles

    table = compare(
        names,
        checkpoints,
        timings,
        metrics_by_dz,
        segmentation_fields,
        RestoreConfig.from_config(restore, checkpoint_percentiles(checkpoints[0])),
        inference_side=comparison["inference_side"],
        repeats=comparison["repeats"],
        threads=threads,
    )
    write_table(table, out_table)
    save_figure(model_comparison(table), out_figure)
    log.info("model comparison:\n%s", table.round(3).to_string(index=False))
