"""Snakemake adapter: checkpoint discover_plate."""

from platefocus.logs import run_step
from platefocus.steps import discover_plate

run_step(
    lambda: discover_plate(
        plate=snakemake.wildcards.plate,
        root=snakemake.params.root,
        pattern=snakemake.params.pattern,
        extensions=snakemake.params.extensions,
        ignore=snakemake.params.ignore,
        out_discovered=snakemake.output.discovered,
        out_qc=snakemake.output.qc,
        out_blocks=snakemake.output.blocks,
        wells_per_job=snakemake.params.wells_per_job,
        on_bad_file=snakemake.params.on_bad_file,
        workers=snakemake.threads,
    ),
    snakemake.log[0],
)
