"""Snakemake adapter: rule restore_wells."""

from platefocus.logs import run_step
from platefocus.steps import restore_block

run_step(
    lambda: restore_block(
        plate_path=snakemake.input.plate,
        manifest_path=snakemake.input.manifest,
        checkpoint=snakemake.input.checkpoint,
        out_plate=snakemake.params.out_plate,
        params=snakemake.params.restore,
        acquisition=snakemake.params.acquisition,
        blocks_path=snakemake.input.blocks,
        block=int(snakemake.wildcards.block),
        out_marker=snakemake.output.marker,
        best_path=snakemake.input.best,
        channel=snakemake.params.channel,
        workers=snakemake.threads,
        dask_settings=snakemake.params.dask,
    ),
    snakemake.log[0],
)
