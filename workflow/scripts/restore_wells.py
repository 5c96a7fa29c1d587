"""Snakemake adapter: rule restore_wells."""

from platefocus.logs import run_step
from platefocus.pipeline.restore import restore_wells

run_step(
    lambda: restore_wells(
        plate_path=snakemake.input.plate,
        manifest_path=snakemake.input.manifest,
        checkpoint=snakemake.input.checkpoint,
        out_plate=snakemake.params.out_plate,
        restore=snakemake.params.restore,
        run_time=snakemake.config["restore"],
        acquisition=snakemake.params.acquisition,
        blocks_path=snakemake.input.blocks,
        block=int(snakemake.wildcards.block),
        out_marker=snakemake.output.marker,
        best_path=snakemake.input.best,
        channel=snakemake.params.channel,
        workers=snakemake.threads,
        dask_settings=snakemake.config["dask"],
        scores_path=snakemake.input.scores or None,
        calibration_scores_path=snakemake.input.calibration_scores or None,
        calibration_best_path=snakemake.input.calibration_best or None,
        operator_path=snakemake.input.get("operator") or None,
        projection_regularisation=snakemake.params.get("projection_regularisation", 1.0),
    ),
    snakemake.log[0],
)
