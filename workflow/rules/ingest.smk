rule ingest_plate:
    input:
        synthetic_plate_dir,
    output:
        plate=directory("results/{plate}/plate.ome.zarr"),
        manifest="results/{plate}/manifest.parquet",
        qc="results/{plate}/qc/ingest_qc.tsv",
    log:
        "logs/ingest_plate/{plate}.log",
    conda:
        "../../envs/platefocus.yaml"
    threads: config["ingest"]["threads"]
    resources:
        mem_mb=4000,
    params:
        root=config["input"]["root"],
        # Functions keep Snakemake from reading regex braces as wildcards.
        pattern=lambda wildcards: config["input"]["pattern"],
        extensions=config["input"]["extensions"],
        ignore=lambda wildcards: config["input"]["ignore"],
        acquisition=config["acquisition"],
        on_bad_file=config["ingest"]["on_bad_file"],
        pyramid_levels=config["ingest"]["pyramid_levels"],
    script:
        "../../scripts/ingest_plate.py"
