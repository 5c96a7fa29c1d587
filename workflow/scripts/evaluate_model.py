"""Snakemake adapter: rule evaluate_model."""

from platefocus.logs import run_step
from platefocus.pipeline.training import evaluate_model

run_step(
    lambda: evaluate_model(
        checkpoint=snakemake.input.checkpoint,
        dataset_path=snakemake.input.dataset,
        table_path=snakemake.input.table,
        out_pairs=snakemake.output.pairs,
        out_by_dz=snakemake.output.by_dz,
    ),
    snakemake.log[0],
)
