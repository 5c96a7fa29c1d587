rule score_focus:
    input:
        plate="results/{plate}/plate.ome.zarr",
        manifest="results/{plate}/manifest.parquet",
        blocks="results/{plate}/blocks.json",
    output:
        scores="results/{plate}/focus/blocks/{block}.scores.parquet",
    log:
        "logs/score_focus/{plate}/{block}.log",
    conda:
        "../envs/platefocus.yaml"
    threads: config["focus"]["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
        slurm_partition=partition("cpu"),
        slurm_account=account(),
    params:
        grid=config["focus"]["grid"],
        window=config["focus"]["window"],
    script:
        "../scripts/score_focus.py"


rule select_targets:
    input:
        plate="results/{plate}/plate.ome.zarr",
        manifest="results/{plate}/manifest.parquet",
        blocks="results/{plate}/blocks.json",
        scores="results/{plate}/focus/blocks/{block}.scores.parquet",
    output:
        best="results/{plate}/focus/blocks/{block}.best.parquet",
        targets="results/{plate}/focus/blocks/{block}.targets.parquet",
    log:
        "logs/select_targets/{plate}/{block}.log",
    conda:
        "../envs/platefocus.yaml"
    threads: config["focus"]["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
        slurm_partition=partition("cpu"),
        slurm_account=account(),
    params:
        focus=job_settings("focus"),
        targets=config["targets"],
        segmentation=segmentation_params(for_targets=True),
        # tiles are judged as training targets on the training plates only
        judge_targets=lambda wildcards: wildcards.plate in training_plates(),
    script:
        "../scripts/select_targets.py"


rule merge_focus:
    input:
        scores=per_block("results/{plate}/focus/blocks/{block}.scores.parquet"),
        best=per_block("results/{plate}/focus/blocks/{block}.best.parquet"),
        targets=per_block("results/{plate}/focus/blocks/{block}.targets.parquet"),
    output:
        scores="results/{plate}/focus/plane_scores.parquet",
        best="results/{plate}/focus/best_planes.parquet",
        targets="results/{plate}/focus/targets.parquet",
    log:
        "logs/merge_focus/{plate}.log",
    localrule: True
    conda:
        "../envs/platefocus.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
        slurm_partition=partition("cpu"),
        slurm_account=account(),
    script:
        "../scripts/merge_focus.py"


rule focus_accuracy:
    input:
        best="results/{plate}/focus/best_planes.parquet",
        truth=truth_dir,
    output:
        accuracy="results/{plate}/focus/accuracy.parquet",
    log:
        "logs/focus_accuracy/{plate}.log",
    localrule: True
    conda:
        "../envs/platefocus.yaml"
    params:
        truth_root=truth_root,
        channel=config["focus"]["target_channel"],
    script:
        "../scripts/focus_accuracy.py"


rule plot_focus:
    input:
        plate="results/{plate}/plate.ome.zarr",
        manifest="results/{plate}/manifest.parquet",
        scores="results/{plate}/focus/plane_scores.parquet",
        best="results/{plate}/focus/best_planes.parquet",
        targets="results/{plate}/focus/targets.parquet",
    output:
        curves=report(
            "results/{plate}/focus/figures/focus_curves.png",
            caption="../report/focus_curves.rst",
            category="1. Focus",
        ),
        plate_map=report(
            "results/{plate}/focus/figures/plate_heatmaps.png",
            caption="../report/plate_heatmaps.rst",
            category="1. Focus",
        ),
        field_map=report(
            "results/{plate}/focus/figures/field_focus_map.png",
            caption="../report/field_focus_map.rst",
            category="1. Focus",
        ),
    log:
        "logs/plot_focus/{plate}.log",
    localrule: True
    conda:
        "../envs/platefocus.yaml"
    params:
        focus=job_settings("focus"),
    script:
        "../scripts/plot_focus.py"


rule plot_focus_accuracy:
    input:
        accuracy="results/{plate}/focus/accuracy.parquet",
    output:
        report(
            "results/{plate}/focus/figures/best_plane_accuracy.png",
            caption="../report/best_plane_accuracy.rst",
            category="1. Focus",
        ),
    log:
        "logs/plot_focus_accuracy/{plate}.log",
    localrule: True
    conda:
        "../envs/platefocus.yaml"
    script:
        "../scripts/plot_focus_accuracy.py"
