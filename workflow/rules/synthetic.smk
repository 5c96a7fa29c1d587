rule synthesize_plate:
    output:
        directory(f"{config['synthetic']['out_dir']}/{{plate}}"),
    log:
        "logs/synthesize_plate/{plate}.log",
    conda:
        "../../envs/platefocus.yaml"
    threads: 2
    resources:
        mem_mb=4000,
    params:
        preset=config["synthetic"]["preset"],
        seed=config["synthetic"]["seed"],
        overrides=config["synthetic"]["overrides"],
    script:
        "../../scripts/synthesize_plate.py"
