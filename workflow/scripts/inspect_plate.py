"""Snakemake adapter: rule inspect_plate."""

from platefocus.logs import run_step
from platefocus.pipeline.ingest import inspect_plate

run_step(
    lambda: inspect_plate(
        plate=snakemake.wildcards.plate,
        input_section=snakemake.params.input_section,
        acquisition=snakemake.params.acquisition,
        out_fields=snakemake.output.fields,
        out_map=snakemake.output.plate_map,
        out_summary=snakemake.output.summary,
        source=snakemake.params.source,
    ),
    snakemake.log[0],
)
