# Every model of training.models, trained on the same split with the same budget,
# evaluated on the held-out pairs and through whole-plate restoration and segmentation.


rule compare_models:
    input:
        checkpoints=trained_files("results/{plate}/models/{model}/checkpoint.pt"),
        timings=trained_files("logs/train_model/{plate}/{model}.timing.json"),
        by_dz=trained_files("results/{plate}/models/{model}/test_metrics_by_dz.tsv"),
        fields=expand(
            "results/{{plate}}/segmentation/{model}/fields.parquet",
            model=trained_models(),
        ),
    output:
        table=report(
            "results/{plate}/comparison/models.tsv",
            caption="../report/model_comparison_table.rst",
            category="5. Model comparison",
        ),
        figure=report(
            "results/{plate}/comparison/models.png",
            caption="../report/model_comparison.rst",
            category="5. Model comparison",
        ),
    log:
        "logs/compare_models/{plate}.log",
    conda:
        "../envs/platefocus.yaml"
    threads: config["training"]["threads"]
    resources:
        mem_mb=8000,
        runtime=60,
        slurm_partition=partition("cpu"),
        slurm_account=account(),
    params:
        names=trained_models(),
        restore=job_settings("restore"),
        comparison=config["comparison"],
    script:
        "../scripts/compare_models.py"


rule compare_offsets:
    input:
        fields=expand(
            "results/{{plate}}/segmentation/{model}/fields.parquet",
            model=trained_models(),
        ),
        restored=expand(
            "results/{{plate}}/restored/{model}.ome.zarr", model=trained_models()
        ),
        plate="results/{plate}/plate.ome.zarr",
        manifest="results/{plate}/manifest.parquet",
    output:
        table=report(
            "results/{plate}/comparison/offsets.tsv",
            caption="../report/offsets_table.rst",
            category="5. Model comparison",
        ),
        figure=report(
            "results/{plate}/comparison/offsets.png",
            caption="../report/offsets.rst",
            category="5. Model comparison",
        ),
        examples=report(
            "results/{plate}/comparison/examples.png",
            caption="../report/restored_examples.rst",
            category="5. Model comparison",
        ),
    log:
        "logs/compare_offsets/{plate}.log",
    conda:
        "../envs/platefocus.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
        slurm_partition=partition("cpu"),
        slurm_account=account(),
    params:
        names=trained_models(),
        z_step_um=config["acquisition"]["z_step_um"],
        dataset=config["dataset"],
        channel=config["focus"]["target_channel"],
        comparison=config["comparison"],
    script:
        "../scripts/compare_offsets.py"


rule compare_all_models:
    default_target: False
    input:
        expand(
            "results/{plate}/comparison/{name}",
            plate=config["plates"],
            name=[
                "models.tsv",
                "models.png",
                "offsets.tsv",
                "offsets.png",
                "examples.png",
            ],
        ),
    localrule: True
