"""Snakemake adapter: rule plot_focus."""

from platefocus.logs import run_step
from platefocus.pipeline.focus import plot_focus

run_step(
    lambda: plot_focus(
        plate_path=snakemake.input.plate,
        manifest_path=snakemake.input.manifest,
        scores_path=snakemake.input.scores,
        best_path=snakemake.input.best,
        targets_path=snakemake.input.targets,
        focus=snakemake.params.focus,
        out_curves=snakemake.output.curves,
        out_plate=snakemake.output.plate_map,
        out_field_map=snakemake.output.field_map,
    ),
    snakemake.log[0],
)
