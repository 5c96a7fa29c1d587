"""Snakemake adapter: rule train_segmenter."""

from platefocus.logs import run_step
from platefocus.pipeline.segment import train_segmenter

run_step(
    lambda: train_segmenter(
        tables=list(snakemake.input.tables),
        truth_roots=list(snakemake.params.truth_roots),
        plates=list(snakemake.params.plates),
        channel=snakemake.params.channel,
        settings=snakemake.params.settings,
        out_model=snakemake.output.model,
    ),
    snakemake.log[0],
)
