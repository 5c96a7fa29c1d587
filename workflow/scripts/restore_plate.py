"""Snakemake adapter: rule restore_plate."""

from platefocus.logs import run_step
from platefocus.pipeline.restore import restore_plate

run_step(
    lambda: restore_plate(
        manifest_path=snakemake.input.manifest,
        plate_path=snakemake.input.plate,
        checkpoint=snakemake.input.checkpoint,
        out_plate=snakemake.output[0],
        restore=snakemake.params.restore,
        run_time=snakemake.config["restore"],
        channel=snakemake.params.channel,
        operator_path=snakemake.input.get("operator") or None,
        projection_regularisation=snakemake.params.get("projection_regularisation", 1.0),
    ),
    snakemake.log[0],
)
