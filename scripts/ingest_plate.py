"""Snakemake adapter: rule ingest_plate (completes a plate ingested by ingest_wells)."""

from platefocus.logs import run_step
from platefocus.steps import finalise_ingest

run_step(
    lambda: finalise_ingest(
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
