"""Snakemake adapter: rule plot_consistency."""

from platefocus.logs import run_step
from platefocus.pipeline.consistency import plot_consistency

run_step(
    lambda: plot_consistency(
        plate_path=snakemake.input.plate,
        restored_path=snakemake.input.restored,
        manifest_path=snakemake.input.manifest,
        fields_path=snakemake.input.fields,
        operator_path=snakemake.input.operator,
        segmentation=snakemake.params.segmentation,
        channel=snakemake.params.channel,
        out_figure=snakemake.output[0],
    ),
    snakemake.log[0],
)
