rule build_dataset:
    input:
        plate="results/{plate}/plate.ome.zarr",
        manifest="results/{plate}/manifest.parquet",
        targets="results/{plate}/focus/targets.parquet",
    output:
        dataset=directory("results/{plate}/dataset/pairs.zarr"),
        table="results/{plate}/dataset/pairs.parquet",
    log:
        "logs/build_dataset/{plate}.log",
    conda:
        "../envs/platefocus.yaml"
    resources:
        mem_mb=8000,
        runtime=60,
        slurm_partition=partition("cpu"),
        slurm_account=account(),
    params:
        dataset=config["dataset"],
        grid=config["focus"]["grid"],
        channel=config["focus"]["target_channel"],
    script:
        "../scripts/build_dataset.py"


# Asked for on the first training plate only (model_plate), it trains on the pairs of
# every training plate.
rule train_model:
    input:
        dataset=expand("results/{p}/dataset/pairs.zarr", p=training_plates()),
        table=expand("results/{p}/dataset/pairs.parquet", p=training_plates()),
        operator=model_operator,
    output:
        checkpoint="results/{plate}/models/{model}/checkpoint.pt",
        history="results/{plate}/models/{model}/history.parquet",
    log:
        log="logs/train_model/{plate}/{model}.log",
        # Wall time is a measurement, not a result: it lives with the logs, so that every
        # result of a seeded rerun is byte-identical.
        timing="logs/train_model/{plate}/{model}.timing.json",
    conda:
        "../envs/platefocus.yaml"
    threads: config["training"]["threads"]
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=gpus(),
        slurm_partition=partition("gpu"),
        slurm_account=account(),
    params:
        training=model_training,
        # Not an output: Snakemake would delete it after a crash, and it is what
        # an interrupted run resumes from. Removed once training has finished.
        work_dir=lambda wildcards: f"results/{wildcards.plate}/models/{wildcards.model}/work",
    script:
        "../scripts/train_model.py"


rule evaluate_model:
    input:
        checkpoint=trained_file("checkpoint.pt"),
        dataset="results/{plate}/dataset/pairs.zarr",
        table="results/{plate}/dataset/pairs.parquet",
    output:
        pairs="results/{plate}/models/{model}/test_pairs.parquet",
        by_dz=report(
            "results/{plate}/models/{model}/test_metrics_by_dz.tsv",
            caption="../report/test_metrics_by_dz.rst",
            category="2. Training",
            subcategory="{model}",
        ),
    log:
        "logs/evaluate_model/{plate}/{model}.log",
    conda:
        "../envs/platefocus.yaml"
    script:
        "../scripts/evaluate_model.py"


rule plot_training:
    input:
        histories=trained_files("results/{plate}/models/{model}/history.parquet"),
        summaries=expand(
            "results/{{plate}}/models/{model}/test_metrics_by_dz.tsv",
            model=trained_models(),
        ),
    output:
        curves=report(
            "results/{plate}/models/figures/training_curves.png",
            caption="../report/training_curves.rst",
            category="2. Training",
        ),
        metrics=report(
            "results/{plate}/models/figures/metrics_by_dz.png",
            caption="../report/metrics_by_dz.rst",
            category="2. Training",
        ),
    log:
        "logs/plot_training/{plate}.log",
    localrule: True
    conda:
        "../envs/platefocus.yaml"
    params:
        names=trained_models(),
        labels=model_labels(config["training"]),
    script:
        "../scripts/plot_training.py"


# Not in `rule all`: ask for it (`snakemake results/demo/models/restormer/package.zip`).
rule export_model:
    input:
        checkpoint=trained_file("checkpoint.pt"),
        plate="results/{plate}/plate.ome.zarr",
        best="results/{plate}/focus/best_planes.parquet",
    output:
        package="results/{plate}/models/{model}/package.zip",
    log:
        "logs/export_model/{plate}/{model}.log",
    conda:
        "../envs/platefocus.yaml"
    params:
        channel=config["focus"]["target_channel"],
    script:
        "../scripts/export_model.py"
