"""Snakemake adapter: rule focus_accuracy."""

from platefocus.logs import run_step
from platefocus.pipeline.focus import focus_accuracy

run_step(
    lambda: focus_accuracy(
        best_path=snakemake.input.best,
        truth_root=snakemake.params.truth_root,
        out_table=snakemake.output.accuracy,
        channel=snakemake.params.channel,
    ),
    snakemake.log[0],
)
