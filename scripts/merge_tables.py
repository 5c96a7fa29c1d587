"""Snakemake adapter: rules that join per-block tables (each named input -> same output)."""

from platefocus.logs import run_step
from platefocus.steps import concat_tables

run_step(
    lambda: concat_tables(
        {name: list(paths) for name, paths in snakemake.input.items()},
        dict(snakemake.output.items()),
    ),
    snakemake.log[0],
)
