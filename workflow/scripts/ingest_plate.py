"""Snakemake adapter: rule ingest_plate."""

from platefocus.logs import run_step
from platefocus.pipeline.ingest import ingest_plate

run_step(
    lambda: ingest_plate(
        discovered_path=snakemake.input.discovered,
        acquisition=snakemake.params.acquisition,
        pyramid_levels=snakemake.params.pyramid_levels,
        discovery_qc=snakemake.input.qc,
        block_manifests=snakemake.input.manifests,
        block_qcs=snakemake.input.qcs,
        out_plate=snakemake.output.plate,
        out_manifest=snakemake.output.manifest,
        out_qc=snakemake.output.qc,
    ),
    snakemake.log[0],
)
