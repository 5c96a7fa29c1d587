"""Snakemake adapter: rule ingest_plate."""

from platefocus.logs import run_step
from platefocus.steps import ingest_plate

run_step(
    lambda: ingest_plate(
        plate=snakemake.wildcards.plate,
        root=snakemake.params.root,
        pattern=snakemake.params.pattern,
        extensions=snakemake.params.extensions,
        ignore=snakemake.params.ignore,
        acquisition=snakemake.params.acquisition,
        out_plate=snakemake.output.plate,
        out_manifest=snakemake.output.manifest,
        out_qc=snakemake.output.qc,
        on_bad_file=snakemake.params.on_bad_file,
        pyramid_levels=snakemake.params.pyramid_levels,
        workers=snakemake.threads,
    ),
    snakemake.log[0],
)
