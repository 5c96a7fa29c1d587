"""Snakemake adapter: rule plot_training."""

from platefocus.logs import run_step
from platefocus.pipeline.training import plot_training

run_step(
    lambda: plot_training(
        histories=list(snakemake.input.histories),
        summaries=list(snakemake.input.summaries),
        names=list(snakemake.params.names),
        labels=list(snakemake.params.labels),
        out_curves=snakemake.output.curves,
        out_metrics=snakemake.output.metrics,
    ),
    snakemake.log[0],
)
