"""Snakemake adapter: rule compare_offsets."""

from platefocus.logs import run_step
from platefocus.pipeline.comparison import compare_offsets

run_step(
    lambda: compare_offsets(
        names=snakemake.params.names,
        segmentation_fields=snakemake.input.fields,
        restored_plates=snakemake.input.restored,
        plate_path=snakemake.input.plate,
        manifest_path=snakemake.input.manifest,
        z_step_um=snakemake.params.z_step_um,
        dataset=snakemake.params.dataset,
        channel=snakemake.params.channel,
        comparison=snakemake.params.comparison,
        out_table=snakemake.output.table,
        out_figure=snakemake.output.figure,
        out_examples=snakemake.output.examples,
    ),
    snakemake.log[0],
)
