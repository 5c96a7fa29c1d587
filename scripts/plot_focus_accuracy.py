"""Snakemake adapter: rule plot_focus_accuracy."""

from platefocus.logs import run_step
from platefocus.steps import plot_focus_accuracy

run_step(
    lambda: plot_focus_accuracy(snakemake.input.accuracy, snakemake.output[0]),
    snakemake.log[0],
)
