"""What ``workflow/rules/common.smk`` runs before any job: the constraints between
configuration keys that the JSON schema cannot express, each raised with the key named
(:func:`check_config`, called right after the schema is validated)."""

from __future__ import annotations

import os
from pathlib import Path

from platefocus.errors import InputError


def model_labels(training: dict) -> list[str]:
    """``"name (loss)"`` of every ``training.models`` entry, in order: the report names
    each model with the loss it was trained with (its own, or ``training.loss``)."""
    from platefocus.models.catalog import (
        OPERATOR_ARCHITECTURES,
        PRIOR_LOSS_LABEL,
        loss_label,
        model_entry,
    )

    labels = []
    for name, entry in training["models"].items():
        architecture, _, loss = model_entry(name, entry)
        if architecture in OPERATOR_ARCHITECTURES:
            labels.append(f"{name} ({PRIOR_LOSS_LABEL})")
            continue
        labels.append(f"{name} ({loss_label(loss if loss is not None else training['loss'])})")
    return labels


def drop_removed_models(config: dict) -> None:
    """Remove the ``training.models`` entries set to null, in place: a config merged over
    another (a protocol over the default) cannot otherwise take a model away."""
    models = config["training"]["models"]
    config["training"]["models"] = {k: v for k, v in models.items() if v is not None}
    if not config["training"]["models"]:
        raise InputError("training.models", "every model is removed (null): nothing to train")


def check_config(config: dict) -> None:
    """Raise :class:`InputError` naming the first key whose value cannot work."""
    from platefocus.dataset.pairs import DatasetConfig
    from platefocus.focus.bestplane import BestPlaneConfig
    from platefocus.focus.targets import TargetConfig
    from platefocus.io.discover import DiscoveryConfig
    from platefocus.models.catalog import check_model_arguments
    from platefocus.restore.settings import RestoreConfig
    from platefocus.segment.nuclei import SegmentationConfig

    restore, training = config["restore"], config["training"]
    check_model_arguments(training["models"])
    if config["consistency"]["kernel_size"] % 2 == 0:
        raise InputError("consistency.kernel_size", "must be odd (a centred kernel)")
    for key, section in (("training.plates", training), ("restore.plates", restore)):
        unknown = [p for p in section.get("plates") or [] if p not in config["plates"]]
        if unknown:
            raise InputError(key, f"{unknown} not in plates {config['plates']}")
    if restore.get("checkpoint") and not training.get("plates"):
        if restore.get("skip_within_um") is not None:
            raise InputError(
                "restore.skip_within_um",
                "with restore.checkpoint and no training.plates there are no focus curves"
                " to calibrate sharpness against distance: name a Z-stack plate in"
                " training.plates or leave skip_within_um null",
            )
    if restore.get("checkpoint"):
        from pathlib import Path

        if not Path(restore["checkpoint"]).exists():
            raise InputError("restore.checkpoint", f"{restore['checkpoint']}: no such file")
        operator = config["consistency"].get("operator")
        if operator and config["consistency"]["enabled"] and not Path(operator).is_file():
            raise InputError(
                "consistency.operator",
                f"{operator}: no such file (the operator.npz of the plate the model"
                " trained on, results/<plate>/models/operator.npz of that run)",
            )
    elif config["consistency"].get("operator"):
        raise InputError(
            "consistency.operator",
            "given without restore.checkpoint: models trained in this run are checked"
            " with their own training plate's operator; remove it",
        )
    elif restore["model"] not in training["models"]:
        raise InputError(
            "restore.model",
            f"{restore['model']!r} is not trained: training.models has {list(training['models'])}",
        )
    checks = {
        "input": lambda: DiscoveryConfig.from_config(config["input"], None),
        "focus": lambda: BestPlaneConfig.from_config(config["focus"]),
        "targets": lambda: TargetConfig.from_config(config["targets"]),
        "segmentation": lambda: SegmentationConfig.from_config(config["segmentation"]),
        "dataset": lambda: DatasetConfig.from_config(
            config["dataset"], config["focus"]["grid"], config["focus"]["target_channel"]
        ),
        "restore": lambda: RestoreConfig.from_config(restore, config["dataset"]["percentiles"]),
    }
    for key, build in checks.items():
        try:
            build()
        except InputError:
            raise
        except (TypeError, ValueError) as err:
            raise InputError(key, str(err)) from None
    _check_segmenter(config["segmentation"])


def _check_segmenter(segmentation: dict) -> None:
    """``method: cellpose`` needs Cellpose installed and a model on disk (or ``plate``)."""
    import importlib.util

    if segmentation["method"] != "cellpose":
        return
    if importlib.util.find_spec("cellpose") is None:
        raise InputError(
            "segmentation.method", "cellpose is not installed: pip install 'platefocus[cellpose]'"
        )
    if not uses_plate_segmenter(segmentation):
        from platefocus.segment.cellpose import resolve_model

        resolve_model((segmentation.get("cellpose") or {}).get("model"))


def input_files(input_section: dict, plate: str | None = None) -> list[str]:
    """Every file discovery reads (image files under ``input.root``; for an OME-Zarr
    input plate, its metadata files), for the workflow to track as inputs: a fixed, added
    or removed file reruns discovery and ingest."""
    from pathlib import Path

    from platefocus.io.discover import DiscoveryConfig, list_image_files
    from platefocus.io.layouts import OME_ZARR

    discovery = DiscoveryConfig.from_config(input_section, plate)
    if discovery.layout == OME_ZARR:
        root = Path(discovery.root)
        # plate, row, column and field groups (arrays, deeper, are not read by discovery)
        groups = (p for p in root.glob("**/zarr.json") if len(p.relative_to(root).parts) <= 4)
        return sorted(str(p) for p in groups)
    return [str(p) for p in list_image_files(discovery)]


def unlock_stale(workdir: str | os.PathLike = ".") -> bool:
    """Remove the lock a killed Snakemake run left in ``workdir`` (what ``snakemake
    --unlock`` does), but only when no Snakemake process works in that folder.

    Returns whether a stale lock was removed. Raises :class:`InputError` while a run is
    alive there, since its lock protects its outputs.
    """
    import shutil

    import psutil

    from platefocus.jobs import live_jobs

    workdir = Path(workdir).resolve()
    locks = workdir / ".snakemake" / "locks"
    if not locks.is_dir() or not any(locks.iterdir()):
        return False
    for process in psutil.process_iter(["pid", "cmdline", "cwd"]):
        if _snakemake_in(process.info, workdir):
            raise InputError(
                workdir,
                f"Snakemake (pid {process.info['pid']}) is still running here; its lock stays",
            )
    jobs = live_jobs(workdir)  # jobs that outlived their Snakemake process
    if jobs:
        raise InputError(
            workdir,
            f"{len(jobs)} job(s) of a killed run are still writing here"
            f" (PID {', '.join(map(str, jobs))}); wait for them or stop them first",
        )
    shutil.rmtree(locks)
    return True


def _snakemake_in(info: dict, workdir: Path) -> bool:
    """Whether a process (psutil ``info``) is a Snakemake run working in ``workdir``."""
    cmdline = info.get("cmdline") or []
    if not any(Path(arg).name.startswith("snakemake") for arg in cmdline[:2]):
        return False
    for flag in ("--directory", "-d"):
        if flag in cmdline[:-1]:
            target = Path(cmdline[cmdline.index(flag) + 1])
            cwd = Path(info.get("cwd") or "/")
            return (target if target.is_absolute() else cwd / target).resolve() == workdir
    return bool(info.get("cwd")) and Path(info["cwd"]).resolve() == workdir


def plate_source(config: dict) -> str:
    """One line saying where the run's plates come from: generated by the synthetic
    generator (``synthetic.enabled``), or read from ``input.root`` with its layout. The
    first line of every run, the first line of ``inspect``'s summary and a banner of the
    summary page, so that a synthetic plate is never taken for acquired data."""
    plates = ", ".join(config["plates"])
    synthetic = config.get("synthetic") or {}
    if synthetic.get("enabled"):
        return (
            f"platefocus: SYNTHETIC plate(s) {plates}: generated by platefocus.synth "
            f"(synthetic.enabled: true, preset {synthetic.get('preset', 'demo')}, "
            f"seed {synthetic.get('seed', 0)}), not acquired images"
        )
    source = config["input"]
    return (
        f"platefocus: plate(s) {plates}: acquired images read from {source['root']} "
        f"(layout {source.get('layout', 'custom')})"
    )


#: ``segmentation.cellpose.model`` value that names the model rule train_segmenter trains.
PLATE_SEGMENTER = "plate"


def uses_plate_segmenter(segmentation: dict) -> bool:
    """Whether the run segments with the Cellpose model trained on its own plate."""
    cellpose = segmentation.get("cellpose") or {}
    return segmentation.get("method") == "cellpose" and cellpose.get("model") == PLATE_SEGMENTER


def segmentation_section(
    segmentation: dict, plate_model: str | None, for_targets: bool = False
) -> dict:
    """The ``segmentation`` section a job gets, holding only what changes its result (so
    that Snakemake reruns exactly the jobs a change concerns): the classic path without
    the ``cellpose`` section; Cellpose with its model file only (``plate``: the trained
    model's file ``plate_model``). Target selection always takes the classic path when
    the segmenter is the plate's (it learns from the wells those targets decide)."""
    method = segmentation["method"]
    if for_targets and uses_plate_segmenter(segmentation):
        method = "classic"
    settings = {k: v for k, v in segmentation.items() if k != "cellpose"}
    # Keys sorted: Snakemake compares params as written, and config files merged in
    # another order would otherwise rerun jobs whose settings did not change.
    if method == "classic":
        return dict(sorted({**settings, "method": "classic"}.items()))
    model = (segmentation.get("cellpose") or {}).get("model")
    model = plate_model if model == PLATE_SEGMENTER else model
    return dict(sorted({**settings, "cellpose": {"model": model}}.items()))


#: Keys of a config section that say where and how fast a job runs, not what it computes:
#: they stay out of rule params (a change reruns nothing) and jobs read them at run time
#: (:func:`with_run_time`). ``plates`` (which plates a job is for) decides which jobs run.
RUN_TIME_KEYS = ("threads", "device", "prefetch")


def result_settings(section: dict) -> dict:
    """A config section as a job's params: without ``plates`` and :data:`RUN_TIME_KEYS`."""
    return {k: v for k, v in section.items() if k not in ("plates", *RUN_TIME_KEYS)}


def with_run_time(settings: dict, section: dict) -> dict:
    """A job's ``settings`` (its params) with the run-time keys of the run's config
    ``section`` put back."""
    return {**settings, **{k: section[k] for k in RUN_TIME_KEYS if k in section}}
