"""Snakemake adapter: rule synthesize_plate."""

from platefocus.logs import run_step
from platefocus.pipeline.synthetic import synthesize_plate

run_step(
    lambda: synthesize_plate(
        out_dir=snakemake.output[0],
        plate=snakemake.wildcards.plate,
        preset=snakemake.params.preset,
        seed=snakemake.params.seed,
        overrides=snakemake.params.overrides,
        workers=snakemake.threads,
    ),
    snakemake.log[0],
)
