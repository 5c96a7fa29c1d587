"""Snakemake adapter: rule score_focus."""

from platefocus.logs import run_step
from platefocus.pipeline.focus import score_focus

run_step(
    lambda: score_focus(
        plate_path=snakemake.input.plate,
        manifest_path=snakemake.input.manifest,
        out_scores=snakemake.output.scores,
        grid=snakemake.params.grid,
        window=snakemake.params.window,
        workers=snakemake.threads,
        blocks_path=snakemake.input.blocks,
        block=int(snakemake.wildcards.block),
        dask_settings=snakemake.config["dask"],
    ),
    snakemake.log[0],
)
