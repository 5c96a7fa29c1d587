"""Snakemake adapter: rule restore_plate."""

from platefocus.logs import run_step
from platefocus.steps import restore

run_step(
    lambda: restore(
        plate_path=snakemake.input.plate,
        manifest_path=snakemake.input.manifest,
        checkpoint=snakemake.input.checkpoint,
        out_plate=snakemake.output[0],
        params=snakemake.params.restore,
        acquisition=snakemake.params.acquisition,
        best_path=snakemake.input.best,
        channel=snakemake.params.channel,
        workers=snakemake.threads,
    ),
    snakemake.log[0],
)
