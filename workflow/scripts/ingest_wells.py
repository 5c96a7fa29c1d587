"""Snakemake adapter: rule ingest_wells."""

from platefocus.logs import run_step
from platefocus.pipeline.ingest import ingest_wells

run_step(
    lambda: ingest_wells(
        discovered_path=snakemake.input.discovered,
        blocks_path=snakemake.input.blocks,
        block=int(snakemake.wildcards.block),
        acquisition=snakemake.params.acquisition,
        out_plate=snakemake.params.out_plate,
        out_manifest=snakemake.output.manifest,
        out_qc=snakemake.output.qc,
        on_bad_file=snakemake.params.on_bad_file,
        pyramid_levels=snakemake.params.pyramid_levels,
        workers=snakemake.threads,
    ),
    snakemake.log[0],
)
