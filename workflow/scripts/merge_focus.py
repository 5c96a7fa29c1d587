"""Snakemake adapter: rule merge_focus."""

from platefocus.logs import run_step
from platefocus.pipeline.focus import merge_focus

run_step(
    lambda: merge_focus(
        parts={name: list(paths) for name, paths in snakemake.input.items()},
        outputs=dict(snakemake.output.items()),
    ),
    snakemake.log[0],
)
