"""Snakemake adapter: rule estimate_operator."""

from platefocus.logs import run_step
from platefocus.pipeline.consistency import estimate_operator

run_step(
    lambda: estimate_operator(
        plate_path=snakemake.input.plate,
        manifest_path=snakemake.input.manifest,
        targets_path=snakemake.input.targets,
        offsets=snakemake.params.offsets,
        grid=snakemake.params.grid,
        channel=snakemake.params.channel,
        acquisition=snakemake.params.acquisition,
        consistency=snakemake.params.consistency,
        out_kernels=snakemake.output.kernels,
        out_table=snakemake.output.table,
        out_figure=snakemake.output.figure,
    ),
    snakemake.log[0],
)
