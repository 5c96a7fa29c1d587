"""Snakemake adapter: rule plot_focus_accuracy."""

from platefocus.logs import run_step
from platefocus.pipeline.focus import plot_focus_accuracy

run_step(
    lambda: plot_focus_accuracy(
        accuracy_path=snakemake.input.accuracy,
        out_figure=snakemake.output[0],
    ),
    snakemake.log[0],
)
