"""Snakemake adapter: rule compare_models."""

from platefocus.logs import run_step
from platefocus.pipeline.comparison import compare_models

run_step(
    lambda: compare_models(
        names=snakemake.params.names,
        checkpoints=snakemake.input.checkpoints,
        timings=snakemake.input.timings,
        metrics_by_dz=snakemake.input.by_dz,
        segmentation_fields=snakemake.input.fields,
        restore=snakemake.params.restore,
        run_time=snakemake.config["restore"],
        comparison=snakemake.params.comparison,
        out_table=snakemake.output.table,
        out_figure=snakemake.output.figure,
        threads=snakemake.threads,
    ),
    snakemake.log[0],
)
