rule restore_wells:
    input:
        plate="results/{plate}/plate.ome.zarr",
        manifest="results/{plate}/manifest.parquet",
        blocks="results/{plate}/blocks.json",
        best="results/{plate}/focus/best_planes.parquet",
        checkpoint=restoring_checkpoint,
        # selective restoration (restore.skip_within_um): the plate's plane scores and
        # the training plate's focus curves, which say how sharp "in focus" is
        scores=if_selective("results/{plate}/focus/plane_scores.parquet"),
        calibration_scores=if_selective(
            lambda wildcards: f"results/{model_plate()}/focus/plane_scores.parquet"
        ),
        calibration_best=if_selective(
            lambda wildcards: f"results/{model_plate()}/focus/best_planes.parquet"
        ),
        # restore.projection: each restored plane made consistent with its observation
        operator=if_projection,
    output:
        # The restored fields go into the shared partial plate (not an output, so a
        # failed job keeps what it finished); this marker says the block is done.
        marker="results/{plate}/restored/{model}.blocks/{block}.done",
    log:
        "logs/restore_wells/{plate}/{model}/{block}.log",
    conda:
        "../envs/platefocus.yaml"
    threads: config["restore"]["threads"]
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=gpus(),
        slurm_partition=partition("gpu"),
        slurm_account=account(),
    params:
        restore=job_settings("restore"),
        acquisition=config["acquisition"],
        channel=config["focus"]["target_channel"],
        out_plate="results/{plate}/restored/{model}.ome.zarr",
        projection_regularisation=config["consistency"]["projection_regularisation"],
    script:
        "../scripts/restore_wells.py"


rule restore_plate:
    input:
        plate="results/{plate}/plate.ome.zarr",
        manifest="results/{plate}/manifest.parquet",
        checkpoint=restoring_checkpoint,
        blocks=per_block("results/{plate}/restored/{model}.blocks/{block}.done"),
        operator=if_projection,
    output:
        directory("results/{plate}/restored/{model}.ome.zarr"),
    log:
        "logs/restore_plate/{plate}/{model}.log",
    localrule: True
    conda:
        "../envs/platefocus.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
        slurm_partition=partition("cpu"),
        slurm_account=account(),
    params:
        restore=job_settings("restore"),
        channel=config["focus"]["target_channel"],
        projection_regularisation=config["consistency"]["projection_regularisation"],
    script:
        "../scripts/restore_plate.py"
