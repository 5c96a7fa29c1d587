"""Snakemake adapter: rule plot_comparison."""

from platefocus.logs import run_step
from platefocus.pipeline.segment import plot_comparison

run_step(
    lambda: plot_comparison(
        plate_path=snakemake.input.plate,
        restored_path=snakemake.input.restored,
        manifest_path=snakemake.input.manifest,
        fields_path=snakemake.input.fields,
        best_path=snakemake.input.best,
        segmentation=snakemake.params.segmentation,
        channel=snakemake.params.channel,
        out_ssim=snakemake.output.ssim,
        out_counts=snakemake.output.counts,
        out_heatmaps=snakemake.output.heatmaps,
        out_examples=snakemake.output.examples,
    ),
    snakemake.log[0],
)
