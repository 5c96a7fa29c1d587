"""Snakemake adapter: rule restore_plate (completes a plate restored by restore_wells)."""

from platefocus.logs import run_step
from platefocus.steps import finalise_restore

run_step(
    lambda: finalise_restore(
        manifest_path=snakemake.input.manifest,
        checkpoint=snakemake.input.checkpoint,
        out_plate=snakemake.output[0],
        params=snakemake.params.restore,
        channel=snakemake.params.channel,
    ),
    snakemake.log[0],
)
