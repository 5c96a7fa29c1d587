# Helpers shared by every stage: input functions and the final target list.


wildcard_constraints:
    plate="|".join(config["plates"]),


def synthetic_plate_dir(wildcards):
    """The generated plate folder when the synthetic plate is on, else nothing."""
    if config["synthetic"]["enabled"]:
        return f"{config['synthetic']['out_dir']}/{wildcards.plate}"
    return []


def all_outputs():
    """Every final output of the workflow, for `rule all`."""
    return expand(
        [
            "results/{plate}/plate.ome.zarr",
            "results/{plate}/manifest.parquet",
        ],
        plate=config["plates"],
    )
