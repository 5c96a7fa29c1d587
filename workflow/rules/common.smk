# Helpers shared by every stage: input functions and the final target list.
import os

# Rules import platefocus from this checkout, also inside conda environments (envs/),
# where the package itself is not installed.
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        p for p in (f"{workflow.basedir}/src", os.getenv("PYTHONPATH")) if p
    )
)


wildcard_constraints:
    block=r"\d+",
    plate="|".join(config["plates"]),
    model="|".join(config["training"]["models"]),


def synthetic_plate_dir(wildcards):
    """The generated plate folder when the synthetic plate is on, else nothing."""
    if config["synthetic"]["enabled"]:
        return f"{config['synthetic']['out_dir']}/{wildcards.plate}"
    return []


def has_truth():
    """Whether ground truth (a synthetic plate's) is configured."""
    return bool(config["truth"]["root"])


def truth_dir(wildcards):
    """The ground-truth folder; for a synthetic plate it is made by `synthesize_plate`."""
    if config["synthetic"]["enabled"]:
        return f"{config['synthetic']['out_dir']}/{wildcards.plate}"
    return config["truth"]["root"]


def trained_models():
    """Names of the models trained on every plate (keys of training.models)."""
    return list(config["training"]["models"])


def summary_page_inputs(wildcards):
    """Tables and figures the summary page embeds (for the restoring model)."""
    base = f"results/{wildcards.plate}"
    seg = f"{base}/segmentation/{config['restore']['model']}"
    return {
        "fields": f"{seg}/fields.parquet",
        "summary": f"{seg}/summary.tsv",
        "paired_ssim": f"{seg}/figures/paired_ssim.png",
        "counts": f"{seg}/figures/counts_per_well.png",
        "heatmaps": f"{seg}/figures/gain_heatmaps.png",
        "examples": f"{seg}/figures/example_panels.png",
        "metrics_by_dz": f"{base}/models/figures/metrics_by_dz.png",
        "training_curves": f"{base}/models/figures/training_curves.png",
        "focus_heatmaps": f"{base}/focus/figures/plate_heatmaps.png",
        "focus_curves": f"{base}/focus/figures/focus_curves.png",
    }


def all_outputs():
    """Every final output of the workflow, for `rule all`."""
    outputs = [
        "results/{plate}/plate.ome.zarr",
        "results/{plate}/focus/targets.parquet",
        "results/{plate}/focus/figures/focus_curves.png",
        "results/{plate}/models/figures/metrics_by_dz.png",
        "results/{plate}/restored/{model}.ome.zarr",
        "results/{plate}/segmentation/{model}/figures/example_panels.png",
        "results/{plate}/summary.html",
    ]
    if has_truth():
        outputs.append("results/{plate}/focus/figures/best_plane_accuracy.png")
    return expand(outputs, plate=config["plates"], model=config["restore"]["model"])
