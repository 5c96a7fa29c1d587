rule synthesize_plate:
    output:
        directory(f"{config['synthetic']['out_dir']}/{{plate}}"),
    log:
        "logs/synthesize_plate/{plate}.log",
    conda:
        "../envs/platefocus.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
        slurm_partition=partition("cpu"),
        slurm_account=account(),
    params:
        preset=config["synthetic"]["preset"],
        seed=lambda wildcards: synthetic_seed(wildcards.plate),
        overrides=lambda wildcards: synthetic_overrides(wildcards.plate),
    script:
        "../scripts/synthesize_plate.py"
