rule restore_wells:
    input:
        plate="results/{plate}/plate.ome.zarr",
        manifest="results/{plate}/manifest.parquet",
        best="results/{plate}/focus/best_planes.parquet",
        checkpoint="results/{plate}/models/{model}/checkpoint.pt",
    output:
        # The restored fields go into the shared partial plate (not an output, so a
        # failed job keeps what it finished); this marker says the block is done.
        marker="results/{plate}/restored/{model}.blocks/{block}.done",
    log:
        "logs/restore_wells/{plate}/{model}/{block}.log",
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
        blocks=config["restore"]["jobs"],
        out_plate=lambda wildcards: f"results/{wildcards.plate}/restored/{wildcards.model}.ome.zarr",
    script:
        "../../scripts/restore_wells.py"


rule restore_plate:
    input:
        manifest="results/{plate}/manifest.parquet",
        checkpoint="results/{plate}/models/{model}/checkpoint.pt",
        blocks=expand(
            "results/{{plate}}/restored/{{model}}.blocks/{block}.done",
            block=range(config["restore"]["jobs"]),
        ),
    output:
        directory("results/{plate}/restored/{model}.ome.zarr"),
    log:
        "logs/restore_plate/{plate}/{model}.log",
    conda:
        "../../envs/platefocus.yaml"
    params:
        restore=config["restore"],
        channel=config["focus"]["target_channel"],
    script:
        "../../scripts/restore_plate.py"
