# Helpers shared by every stage: input functions, cluster resources, the final targets.
import json
from types import SimpleNamespace
import os
import sys

# Rules import platefocus from this checkout, also inside conda environments (envs/),
# where the package itself is not installed.
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        p for p in (f"{workflow.basedir}/src", os.getenv("PYTHONPATH")) if p
    )
)


# Constraints between keys that the schema cannot express, checked before any job runs.
sys.path.insert(0, f"{workflow.basedir}/src")
from platefocus.models.catalog import uses_operator
from platefocus.pipeline.common import (
    check_config,
    drop_removed_models,
    input_files,
    model_labels,
    plate_source,
    RUN_TIME_KEYS,
    result_settings,
    segmentation_section,
    uses_plate_segmenter,
)

drop_removed_models(config)
check_config(config)

# The first line of every run says where its plates come from (a synthetic plate says so).
if workflow.is_main_process:
    print(plate_source(config), file=sys.stderr)


wildcard_constraints:
    block=r"\d+",
    plate="|".join(config["plates"]),
    model="|".join(config["training"]["models"]),


def plate_files(wildcards):
    """What discovery reads: the generated plate folder when the synthetic plate is on,
    else every image file under input.root (so a fixed, added or removed file reruns
    discovery and ingest), or an input OME-Zarr plate's metadata."""
    if config["synthetic"]["enabled"]:
        return f"{config['synthetic']['out_dir']}/{wildcards.plate}"
    return input_files(config["input"], wildcards.plate)


def block_count(wildcards):
    """How many blocks of wells the plate was cut into (known after discover_plate)."""
    plan = checkpoints.discover_plate.get(plate=wildcards.plate).output.blocks
    with open(plan) as f:
        return len(json.load(f)["blocks"])


def per_block(pattern):
    """Input function: ``pattern`` for every block of the plate, other wildcards filled."""

    def inputs(wildcards):
        return expand(pattern, block=range(block_count(wildcards)), **wildcards)

    return inputs


def partition(kind):
    """SLURM partition for "cpu" or "gpu" jobs from config; None: the cluster's default."""
    cluster = config["cluster"]
    if kind == "gpu":
        return cluster["gpu_partition"] or cluster["partition"]
    return cluster["partition"]


def account():
    """SLURM account from config; None leaves it to the command line or the cluster."""
    return config["cluster"]["account"]


def gpus():
    """GPUs a training or restore job asks for; None (no request) when set to 0."""
    return config["cluster"]["gpus_per_job"] or None


def synthetic_overrides(plate):
    """The synthetic plate's settings: ``synthetic.randomise`` (when set), then
    ``synthetic.overrides``, then its own (``plates``)."""
    synthetic = config["synthetic"]
    own = {k: v for k, v in synthetic["plates"].get(plate, {}).items() if k != "seed"}
    randomise = {"randomise": synthetic["randomise"]} if synthetic["randomise"] else {}
    return {**randomise, **synthetic["overrides"], **own}


def synthetic_seed(plate):
    """A synthetic plate's seed: its own, else ``seed`` plus its position in ``plates``
    (plates of one run differ; the first is the single-plate seed)."""
    synthetic = config["synthetic"]
    own = synthetic["plates"].get(plate, {})
    return own.get("seed", synthetic["seed"] + config["plates"].index(plate))


def truth_root(wildcards):
    """``truth.root`` for the plate (``{plate}`` in it stands for the plate's name)."""
    root = config["truth"]["root"]
    return root.replace("{plate}", wildcards.plate) if root else root


def own_pairs(wildcards):
    """The plate's pair table when it trains (it says which wells were held out), else
    nothing: no well of a plate that did not train was seen in training."""
    if wildcards.plate in training_plates():
        return f"results/{wildcards.plate}/dataset/pairs.parquet"
    return []


def job_settings(section):
    """A config section as a job's params: only keys that change what the job computes
    (no plate roles, threads, devices or prefetch: changing those reruns nothing)."""
    return result_settings(config[section])


def has_truth():
    """Whether ground truth (a synthetic plate's) is configured."""
    return bool(config["truth"]["root"])


def truth_dir(wildcards):
    """The ground-truth folder; for a synthetic plate it is made by `synthesize_plate`."""
    if config["synthetic"]["enabled"]:
        return f"{config['synthetic']['out_dir']}/{wildcards.plate}"
    return truth_root(wildcards) or []


def training_plates():
    """Plates whose pairs train the run's models (``training.plates``; default: all, or
    none when ``restore.checkpoint`` restores with a model trained elsewhere)."""
    if config["training"]["plates"]:
        return config["training"]["plates"]
    return [] if config["restore"].get("checkpoint") else config["plates"]


def restored_plates():
    """Plates that are restored, segmented and reported (``restore.plates``; default: all)."""
    return config["restore"]["plates"] or config["plates"]


def model_plate():
    """The plate whose results folder holds the run's trained models: the first training
    plate (one model per architecture, trained on every training plate's pairs)."""
    return training_plates()[0]


def trained_file(name):
    """Input function: ``name`` (e.g. ``checkpoint.pt``) of the run's trained model."""

    def inputs(wildcards):
        return f"results/{model_plate()}/models/{wildcards.model}/{name}"

    return inputs


def trained_files(pattern):
    """``pattern`` of every trained model of the run (``{model}``; ``{plate}``: the
    plate that holds them); none when no plate trains (``restore.checkpoint``)."""
    if not training_plates():
        return []
    return expand(pattern, plate=model_plate(), model=trained_models())


def if_projection(wildcards):
    """Input function: the model plate's defocus operator when restored planes are
    projected onto their observations (``restore.projection``), else nothing."""
    if config["restore"].get("projection"):
        return f"results/{model_plate()}/models/operator.npz"
    return []


def if_selective(path):
    """Input function: ``path`` (a pattern or a function) when selective restoration is on
    (``restore.skip_within_um``), else nothing."""

    def inputs(wildcards):
        if config["restore"].get("skip_within_um") is None:
            return []
        return path(wildcards) if callable(path) else expand(path, **wildcards)

    return inputs


def restoring_checkpoint(wildcards):
    """The checkpoint that restores plates: ``restore.checkpoint`` (a model trained in
    another run or on another machine, or a bioimage.io package) or the one this run
    trains on its training plates."""
    return config["restore"]["checkpoint"] or trained_file("checkpoint.pt")(wildcards)


def operator_file(wildcards):
    """The defocus operator of the models' training plate, when consistency is on: this
    run's, or for a checkpoint from elsewhere the one ``consistency.operator`` names."""
    if not config["consistency"]["enabled"]:
        return []
    if config["restore"].get("checkpoint"):
        return config["consistency"]["operator"] or []
    return f"results/{model_plate()}/models/operator.npz"


def reliability_reference(wildcards):
    """The held-out comparison that sets a plate's reliable range: ``reliability.reference``
    when given, its own when it trained (nothing to add), else the models' training
    plate's (a screen plate has no truth)."""
    if config["reliability"]["reference"]:
        return config["reliability"]["reference"]
    if wildcards.plate in training_plates() or config["restore"].get("checkpoint"):
        return []
    return f"results/{model_plate()}/segmentation/{wildcards.model}/fields.parquet"


def model_training(wildcards):
    """The training settings of one model: the ``training`` section with only this
    model's entry, so that editing one entry retrains that model alone."""
    settings = {k: v for k, v in job_settings("training").items() if k != "models"}
    return {
        **settings,
        "models": {wildcards.model: config["training"]["models"][wildcards.model]},
    }


def model_operator(wildcards):
    """Input function of train_model: the model plate's defocus operator for a network
    that restores with it (DDNM), else nothing."""
    if uses_operator(wildcards.model, config["training"]["models"][wildcards.model]):
        return f"results/{model_plate()}/models/operator.npz"
    return []


def trained_models():
    """Names of the models trained on every plate (keys of training.models)."""
    return list(config["training"]["models"])


def summary_page_inputs(wildcards):
    """Tables and figures the summary page embeds (for the restoring model)."""
    base = f"results/{wildcards.plate}"
    seg = f"{base}/segmentation/{config['restore']['model']}"
    # a plate that did not train shows the figures of the training plate of its model
    # (none for a model trained elsewhere, restore.checkpoint)
    trained = (
        base
        if wildcards.plate in training_plates() or not training_plates()
        else f"results/{model_plate()}"
    )
    training = {
        "metrics_by_dz": f"{trained}/models/figures/metrics_by_dz.png",
        "training_curves": f"{trained}/models/figures/training_curves.png",
    }
    return {
        "fields": f"{seg}/fields.parquet",
        "summary": f"{seg}/summary.tsv",
        "paired_ssim": f"{seg}/figures/paired_ssim.png",
        "counts": f"{seg}/figures/counts_per_well.png",
        "heatmaps": f"{seg}/figures/gain_heatmaps.png",
        "examples": f"{seg}/figures/example_panels.png",
        **(training if training_plates() else {}),
        "focus_heatmaps": f"{base}/focus/figures/plate_heatmaps.png",
        "focus_curves": f"{base}/focus/figures/focus_curves.png",
        **(
            {"hallucination": f"{seg}/figures/hallucination.png"}
            if operator_file(wildcards) and wildcards.plate in training_plates()
            else {}
        ),
        **(
            {
                "comparison": f"{base}/comparison/models.tsv",
                "comparison_figure": f"{base}/comparison/models.png",
                "offsets": f"{base}/comparison/offsets.tsv",
                "offsets_figure": f"{base}/comparison/offsets.png",
                "examples_figure": f"{base}/comparison/examples.png",
            }
            if config["comparison"]["enabled"]
            else {}
        ),
    }


def all_outputs():
    """Every final output of the workflow, for `rule all`."""
    every_plate = [
        "results/{plate}/inspect/plate_map.png",
        "results/{plate}/plate.ome.zarr",
        "results/{plate}/focus/figures/focus_curves.png",
    ]
    if has_truth():
        every_plate.append("results/{plate}/focus/figures/best_plane_accuracy.png")
    # targets, pairs and evaluation need Z-stacks: training plates only (a screen plate
    # may hold one plane per field)
    training = [
        "results/{plate}/focus/targets.parquet",
        "results/{plate}/models/figures/metrics_by_dz.png",
    ]
    if config["consistency"]["enabled"]:
        training.append("results/{plate}/consistency/operator.png")
    restored = [
        "results/{plate}/restored/{model}.ome.zarr",
        "results/{plate}/segmentation/{model}/figures/example_panels.png",
        "results/{plate}/summary.html",
    ]
    if config["comparison"]["enabled"]:
        restored += [
            "results/{plate}/comparison/models.tsv",
            "results/{plate}/comparison/offsets.tsv",
        ]
    model = config["restore"]["model"]
    # with the comparison on, every model's paired SSIM and counts before/after
    compared = (
        expand(
            "results/{plate}/segmentation/{model}/figures/paired_ssim.png",
            plate=restored_plates(),
            model=trained_models(),
        )
        if config["comparison"]["enabled"]
        else []
    )
    # hallucination maps need Z-stacks (an offset, hence a kernel, per plane): plates that
    # trained and are restored
    consistency = (
        expand(
            "results/{plate}/segmentation/{model}/figures/hallucination.png",
            plate=[p for p in restored_plates() if p in training_plates()],
            model=model,
        )
        if operator_file(None)
        else []
    )
    return (
        expand(every_plate, plate=config["plates"])
        + expand(training, plate=training_plates())
        + expand(restored, plate=restored_plates(), model=model)
        + compared
        + consistency
    )


def segmenter_file():
    """The Cellpose model rule train_segmenter trains (beside the restoration models)."""
    return f"results/{model_plate()}/models/segmenter/cellpose_model"


def segmenter_input(wildcards):
    """Input function: the plate-trained segmenter, when the run segments with it."""
    return segmenter_file() if uses_plate_segmenter(config["segmentation"]) else []


def segmentation_params(for_targets=False):
    """The ``segmentation`` section of a job (``cellpose.model: plate`` as its file)."""
    model = segmenter_file() if uses_plate_segmenter(config["segmentation"]) else None
    return segmentation_section(config["segmentation"], model, for_targets)


def training_truth_dirs():
    """The ground-truth folders of the training plates (train_segmenter's input)."""
    return [truth_dir(SimpleNamespace(plate=p)) for p in training_plates()]


def training_truth_roots():
    """``truth.root`` of each training plate (where train_segmenter reads true masks)."""
    return [truth_root(SimpleNamespace(plate=p)) for p in training_plates()]


def result_config():
    """The run's configuration as the summary page shows it: what decides its results
    (no thread, device, prefetch or Dask placement, which change nothing it shows)."""
    return {
        k: (
            {s: x for s, x in v.items() if s not in RUN_TIME_KEYS}
            if isinstance(v, dict)
            else v
        )
        for k, v in config.items()
        if k != "dask"
    }
