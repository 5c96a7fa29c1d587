# Physics consistency: the defocus operator of each training plate, estimated from its
# kept target tiles and compared with the PSF model; kept beside the trained models.


rule estimate_operator:
    input:
        plate="results/{plate}/plate.ome.zarr",
        manifest="results/{plate}/manifest.parquet",
        targets="results/{plate}/focus/targets.parquet",
    output:
        kernels="results/{plate}/models/operator.npz",
        table=report(
            "results/{plate}/consistency/operator.tsv",
            caption="../report/operator_table.rst",
            category="6. Physics consistency",
        ),
        figure=report(
            "results/{plate}/consistency/operator.png",
            caption="../report/operator.rst",
            category="6. Physics consistency",
        ),
    log:
        "logs/estimate_operator/{plate}.log",
    conda:
        "../envs/platefocus.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
        slurm_partition=partition("cpu"),
        slurm_account=account(),
    params:
        offsets=config["dataset"]["offsets"],
        grid=config["focus"]["grid"],
        channel=config["focus"]["target_channel"],
        acquisition=config["acquisition"],
        consistency=config["consistency"],
    script:
        "../scripts/estimate_operator.py"


rule plot_consistency:
    input:
        plate="results/{plate}/plate.ome.zarr",
        restored="results/{plate}/restored/{model}.ome.zarr",
        manifest="results/{plate}/manifest.parquet",
        fields="results/{plate}/segmentation/{model}/fields.parquet",
        operator=operator_file,
        segmenter=segmenter_input,
    output:
        report(
            "results/{plate}/segmentation/{model}/figures/hallucination.png",
            caption="../report/hallucination.rst",
            category="6. Physics consistency",
            subcategory="{model}",
        ),
    log:
        "logs/plot_consistency/{plate}/{model}.log",
    localrule: True
    conda:
        "../envs/platefocus.yaml"
    params:
        segmentation=segmentation_params(),
        channel=config["focus"]["target_channel"],
    script:
        "../scripts/plot_consistency.py"
