rule restore_plate:
    input:
        plate="results/{plate}/plate.ome.zarr",
        manifest="results/{plate}/manifest.parquet",
        best="results/{plate}/focus/best_planes.parquet",
        checkpoint="results/{plate}/models/{model}/checkpoint.pt",
    output:
        directory("results/{plate}/restored/{model}.ome.zarr"),
    log:
        "logs/restore_plate/{plate}/{model}.log",
    conda:
        "../../envs/platefocus.yaml"
    threads: config["restore"]["threads"]
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    params:
        restore=config["restore"],
        acquisition=config["acquisition"],
        channel=config["focus"]["target_channel"],
    script:
        "../../scripts/restore_plate.py"
