"""Snakemake adapter: rule summarise_segmentation."""

from platefocus.logs import run_step
from platefocus.pipeline.segment import summarise_segmentation

run_step(
    lambda: summarise_segmentation(
        block_fields=snakemake.input.fields,
        block_objects=snakemake.input.objects,
        out_fields=snakemake.output.fields,
        out_objects=snakemake.output.objects,
        out_summary=snakemake.output.summary,
        out_reliability=snakemake.output.reliability,
        reference_fields=snakemake.input.get("reference") or None,
        z_step_um=snakemake.params.z_step_um,
        reliability=snakemake.params.reliability,
    ),
    snakemake.log[0],
)
