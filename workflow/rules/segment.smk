rule compare_segmentation:
    input:
        plate="results/{plate}/plate.ome.zarr",
        restored="results/{plate}/restored/{model}.ome.zarr",
        manifest="results/{plate}/manifest.parquet",
        blocks="results/{plate}/blocks.json",
        best="results/{plate}/focus/best_planes.parquet",
        pairs=own_pairs,
        truth=truth_dir,
        operator=operator_file,
        segmenter=segmenter_input,
        reference=reliability_reference,
    output:
        fields="results/{plate}/segmentation/{model}/blocks/{block}.fields.parquet",
        objects="results/{plate}/segmentation/{model}/blocks/{block}.objects.parquet",
    log:
        "logs/compare_segmentation/{plate}/{model}/{block}.log",
    conda:
        "../envs/platefocus.yaml"
    threads: config["focus"]["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
        slurm_partition=partition("cpu"),
        slurm_account=account(),
    params:
        segmentation=segmentation_params(),
        channel=config["focus"]["target_channel"],
        truth_root=truth_root,
        projection_regularisation=config["consistency"]["projection_regularisation"],
        z_step_um=config["acquisition"]["z_step_um"],
        single_plane_defocus_um=config["reliability"]["single_plane_defocus_um"],
    script:
        "../scripts/compare_segmentation.py"


rule summarise_segmentation:
    input:
        fields=per_block(
            "results/{plate}/segmentation/{model}/blocks/{block}.fields.parquet"
        ),
        objects=per_block(
            "results/{plate}/segmentation/{model}/blocks/{block}.objects.parquet"
        ),
        reference=reliability_reference,
    output:
        fields="results/{plate}/segmentation/{model}/fields.parquet",
        objects="results/{plate}/segmentation/{model}/objects.parquet",
        reliability="results/{plate}/segmentation/{model}/reliability.tsv",
        summary=report(
            "results/{plate}/segmentation/{model}/summary.tsv",
            caption="../report/segmentation_summary.rst",
            category="4. Segmentation",
            subcategory="{model}",
        ),
    log:
        "logs/summarise_segmentation/{plate}/{model}.log",
    localrule: True
    conda:
        "../envs/platefocus.yaml"
    params:
        z_step_um=config["acquisition"]["z_step_um"],
        reliability=config["reliability"],
    script:
        "../scripts/summarise_segmentation.py"


rule plot_comparison:
    input:
        plate="results/{plate}/plate.ome.zarr",
        restored="results/{plate}/restored/{model}.ome.zarr",
        manifest="results/{plate}/manifest.parquet",
        fields="results/{plate}/segmentation/{model}/fields.parquet",
        best="results/{plate}/focus/best_planes.parquet",
        segmenter=segmenter_input,
    output:
        ssim=report(
            "results/{plate}/segmentation/{model}/figures/paired_ssim.png",
            caption="../report/paired_ssim.rst",
            category="4. Segmentation",
            subcategory="{model}",
        ),
        counts=report(
            "results/{plate}/segmentation/{model}/figures/counts_per_well.png",
            caption="../report/counts_per_well.rst",
            category="4. Segmentation",
            subcategory="{model}",
        ),
        heatmaps=report(
            "results/{plate}/segmentation/{model}/figures/gain_heatmaps.png",
            caption="../report/gain_heatmaps.rst",
            category="4. Segmentation",
            subcategory="{model}",
        ),
        examples=report(
            "results/{plate}/segmentation/{model}/figures/example_panels.png",
            caption="../report/example_panels.rst",
            category="4. Segmentation",
            subcategory="{model}",
        ),
    log:
        "logs/plot_comparison/{plate}/{model}.log",
    localrule: True
    conda:
        "../envs/platefocus.yaml"
    params:
        segmentation=segmentation_params(),
        channel=config["focus"]["target_channel"],
    script:
        "../scripts/plot_comparison.py"


rule train_segmenter:
    input:
        tables=expand("results/{p}/dataset/pairs.parquet", p=training_plates()),
        truth=training_truth_dirs(),
    output:
        model="results/{plate}/models/segmenter/cellpose_model",
        provenance="results/{plate}/models/segmenter/cellpose_model.json",
    log:
        "logs/train_segmenter/{plate}.log",
    conda:
        "../envs/platefocus.yaml"
    threads: config["training"]["threads"]
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=config["cluster"]["gpus_per_job"],
        slurm_partition=partition("gpu"),
        slurm_account=account(),
    params:
        truth_roots=training_truth_roots(),
        plates=training_plates(),
        channel=config["focus"]["target_channel"],
        settings=config["segmentation"]["cellpose"],
    script:
        "../scripts/train_segmenter.py"
