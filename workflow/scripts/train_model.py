"""Snakemake adapter: rule train_model."""

from platefocus.logs import run_step
from platefocus.pipeline.training import train_model

run_step(
    lambda: train_model(
        dataset_path=list(snakemake.input.dataset),
        table_path=list(snakemake.input.table),
        model=snakemake.wildcards.model,
        training=snakemake.params.training,
        run_time=snakemake.config["training"],
        work_dir=snakemake.params.work_dir,
        out_checkpoint=snakemake.output.checkpoint,
        out_history=snakemake.output.history,
        threads=snakemake.threads,
        out_timing=snakemake.log.timing,
        operator=snakemake.input.get("operator") or None,
    ),
    snakemake.log.log,
)
