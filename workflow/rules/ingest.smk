# First output of a run: what the plate folder holds, checked against the configuration
# (a user reads this before hours of training).
rule inspect_plate:
    input:
        plate_files,
    output:
        fields=report(
            "results/{plate}/inspect/fields.tsv",
            caption="../report/inspect_fields.rst",
            category="0. Input",
        ),
        plate_map=report(
            "results/{plate}/inspect/plate_map.png",
            caption="../report/inspect_plate_map.rst",
            category="0. Input",
        ),
        summary="results/{plate}/inspect/summary.txt",
    log:
        "logs/inspect_plate/{plate}.log",
    localrule: True
    conda:
        "../envs/platefocus.yaml"
    params:
        # A function keeps Snakemake from reading regex braces as wildcards.
        input_section=lambda wildcards: config["input"],
        acquisition=config["acquisition"],
        source=plate_source(config),
    script:
        "../scripts/inspect_plate.py"


# Ingest in blocks of wells: discover and check every file (a checkpoint that also cuts
# the plate into blocks), write each block into the partial plate, then finalise.


checkpoint discover_plate:
    input:
        plate_files,
    output:
        discovered="results/{plate}/ingest/discovered.parquet",
        qc="results/{plate}/ingest/discovery_qc.tsv",
        blocks="results/{plate}/blocks.json",
    log:
        "logs/discover_plate/{plate}.log",
    conda:
        "../envs/platefocus.yaml"
    threads: config["ingest"]["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
        slurm_partition=partition("cpu"),
        slurm_account=account(),
    params:
        # A function keeps Snakemake from reading regex braces as wildcards.
        input_section=lambda wildcards: config["input"],
        on_bad_file=config["ingest"]["on_bad_file"],
        wells_per_job=config["blocks"]["wells_per_job"],
    script:
        "../scripts/discover_plate.py"


rule ingest_wells:
    input:
        discovered="results/{plate}/ingest/discovered.parquet",
        blocks="results/{plate}/blocks.json",
    output:
        # Fields go into the shared partial plate (not an output, so a failed job keeps
        # what it finished); these tables say what this block wrote.
        manifest="results/{plate}/ingest/blocks/{block}.manifest.parquet",
        qc="results/{plate}/ingest/blocks/{block}.qc.tsv",
    log:
        "logs/ingest_wells/{plate}/{block}.log",
    conda:
        "../envs/platefocus.yaml"
    threads: config["ingest"]["threads"]
    resources:
        mem_mb=4000,
        runtime=120,
        slurm_partition=partition("cpu"),
        slurm_account=account(),
    params:
        out_plate="results/{plate}/plate.ome.zarr",
        acquisition=config["acquisition"],
        on_bad_file=config["ingest"]["on_bad_file"],
        pyramid_levels=config["ingest"]["pyramid_levels"],
    script:
        "../scripts/ingest_wells.py"


rule ingest_plate:
    input:
        discovered="results/{plate}/ingest/discovered.parquet",
        qc="results/{plate}/ingest/discovery_qc.tsv",
        manifests=per_block("results/{plate}/ingest/blocks/{block}.manifest.parquet"),
        qcs=per_block("results/{plate}/ingest/blocks/{block}.qc.tsv"),
    output:
        plate=directory("results/{plate}/plate.ome.zarr"),
        manifest="results/{plate}/manifest.parquet",
        qc="results/{plate}/qc/ingest_qc.tsv",
    log:
        "logs/ingest_plate/{plate}.log",
    conda:
        "../envs/platefocus.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
        slurm_partition=partition("cpu"),
        slurm_account=account(),
    params:
        acquisition=config["acquisition"],
        pyramid_levels=config["ingest"]["pyramid_levels"],
    script:
        "../scripts/ingest_plate.py"
