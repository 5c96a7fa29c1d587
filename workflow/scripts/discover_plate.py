"""Snakemake adapter: rule discover_plate."""

from platefocus.logs import run_step
from platefocus.pipeline.ingest import discover_plate

run_step(
    lambda: discover_plate(
        plate=snakemake.wildcards.plate,
        input_section=snakemake.params.input_section,
        out_discovered=snakemake.output.discovered,
        out_qc=snakemake.output.qc,
        out_blocks=snakemake.output.blocks,
        wells_per_job=snakemake.params.wells_per_job,
        on_bad_file=snakemake.params.on_bad_file,
        workers=snakemake.threads,
    ),
    snakemake.log[0],
)
