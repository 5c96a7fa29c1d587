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


rule compare_all_models:
    default_target: False
    input:
        expand("results/{plate}/comparison/models.tsv", plate=config["plates"]),
        expand("results/{plate}/comparison/models.png", plate=config["plates"]),
    localrule: True
