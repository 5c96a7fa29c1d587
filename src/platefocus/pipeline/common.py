"""What ``workflow/rules/common.smk`` runs before any job: the constraints between
configuration keys that the JSON schema cannot express, each raised with the key named
(:func:`check_config`, called right after the schema is validated)."""

from __future__ import annotations

from platefocus.errors import InputError


def check_config(config: dict) -> None:
    """Raise :class:`InputError` naming the first key whose value cannot work."""
    from platefocus.dataset.pairs import DatasetConfig
    from platefocus.focus.bestplane import BestPlaneConfig
    from platefocus.focus.targets import TargetConfig
    from platefocus.io.discover import DiscoveryConfig
    from platefocus.restore.inference import RestoreConfig
    from platefocus.segment.nuclei import SegmentationConfig

    restore, training = config["restore"], config["training"]
    if restore["model"] not in training["models"]:
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


def input_files(input_section: dict) -> list[str]:
    """Every file discovery reads (image files under ``input.root``; for an OME-Zarr
    input plate, its metadata files), for the workflow to track as inputs: a fixed, added
    or removed file reruns discovery and ingest."""
    from pathlib import Path

    from platefocus.io.discover import DiscoveryConfig, list_image_files
    from platefocus.io.layouts import OME_ZARR

    discovery = DiscoveryConfig.from_config(input_section, None)
    if discovery.layout == OME_ZARR:
        root = Path(discovery.root)
        # plate, row, column and field groups (arrays, deeper, are not read by discovery)
        groups = (p for p in root.glob("**/zarr.json") if len(p.relative_to(root).parts) <= 4)
        return sorted(str(p) for p in groups)
    return [str(p) for p in list_image_files(discovery)]
