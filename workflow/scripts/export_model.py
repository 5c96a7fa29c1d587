"""Snakemake adapter: rule export_model."""

from platefocus.logs import run_step
from platefocus.pipeline.training import export_model

run_step(
    lambda: export_model(
        checkpoint=snakemake.input.checkpoint,
        plate_path=snakemake.input.plate,
        out_package=snakemake.output.package,
        best_path=snakemake.input.best,
        channel=snakemake.params.channel,
    ),
    snakemake.log[0],
)
