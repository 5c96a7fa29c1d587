"""Snakemake adapter: rule select_targets."""

from platefocus.logs import run_step
from platefocus.pipeline.focus import select_targets

run_step(
    lambda: select_targets(
        plate_path=snakemake.input.plate,
        manifest_path=snakemake.input.manifest,
        scores_path=snakemake.input.scores,
        out_best=snakemake.output.best,
        out_targets=snakemake.output.targets,
        focus=snakemake.params.focus,
        targets=snakemake.params.targets,
        segmentation=snakemake.params.segmentation,
        workers=snakemake.threads,
        blocks_path=snakemake.input.blocks,
        block=int(snakemake.wildcards.block),
        dask_settings=snakemake.config["dask"],
        judge_targets=snakemake.params.judge_targets,
    ),
    snakemake.log[0],
)
