"""Snakemake adapter: rule build_dataset."""

from platefocus.logs import run_step
from platefocus.pipeline.training import build_dataset

run_step(
    lambda: build_dataset(
        plate_path=snakemake.input.plate,
        manifest_path=snakemake.input.manifest,
        targets_path=snakemake.input.targets,
        dataset=snakemake.params.dataset,
        grid=snakemake.params.grid,
        channel=snakemake.params.channel,
        out_dataset=snakemake.output.dataset,
        out_table=snakemake.output.table,
    ),
    snakemake.log[0],
)
