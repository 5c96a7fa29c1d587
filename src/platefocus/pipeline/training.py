"""Rules of ``workflow/rules/training.smk``: training pairs, training, evaluation on the
held-out wells, and the training figures."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path

import pandas as pd

from platefocus.io.atomic import atomic_path, read_table, write_table
from platefocus.pipeline.common import with_run_time

log = logging.getLogger(__name__)


def build_dataset(
    plate_path: str | Path,
    manifest_path: str | Path,
    targets_path: str | Path,
    dataset: dict,
    grid: list[int],
    channel: int,
    out_dataset: str | Path,
    out_table: str | Path,
) -> None:
    """Cut (defocused, best) pairs from the kept targets into a chunked Zarr dataset."""
    from platefocus.dataset.pairs import DatasetConfig
    from platefocus.dataset.pairs import build_dataset as build

    table = build(
        plate_path,
        pd.read_parquet(manifest_path),
        pd.read_parquet(targets_path),
        DatasetConfig.from_config(dataset, grid, channel),
        out_dataset,
    )
    write_table(table, out_table)


def pooled_pair_info(dataset_paths: list[str | Path]) -> dict:
    """How the pairs of several plates' stores were made: the first store's settings
    (every store of a run is cut with the same ones) and the plates of all of them."""
    from platefocus.io.pairs import read_pair_info

    infos = [read_pair_info(p) for p in dataset_paths]
    plates = [plate for info in infos for plate in info.get("plates", [])]
    return {**infos[0], "plates": list(dict.fromkeys(plates))}


def train_model(
    dataset_path: str | Path | list[str | Path],
    table_path: str | Path | list[str | Path],
    model: str,
    training: dict,
    work_dir: str | Path,
    out_checkpoint: str | Path,
    out_history: str | Path,
    threads: int = 1,
    out_timing: str | Path | None = None,
    operator: str | Path | None = None,
    run_time: dict | None = None,
) -> None:
    """Train one registered model; resume from ``work_dir`` after an interruption.

    ``dataset_path`` and ``table_path`` may be lists, one per training plate: one model is
    trained on the pairs of all of them (``training.plates``).

    ``out_timing`` (JSON): training wall time, epochs run and device, kept apart from the
    checkpoint and history (the workflow writes it beside the logs) so that seeded reruns
    give byte-identical results. ``work_dir`` (resume state, which holds the wall time) is
    removed once the checkpoint, history and timing are written: it has served its purpose.
    ``operator``: the defocus-operator file of the first training plate, for networks that
    restore with it (DDNM).
    """
    training = with_run_time(training, run_time or {})  # threads, device, prefetch
    from platefocus.model_io.checkpoint import read_resume_state
    from platefocus.train.loop import TrainConfig, train

    config = TrainConfig.from_config(training, model, threads)
    if operator:  # the network's kernel slots take the operator's size unless set
        from platefocus.consistency.stack import load_kernels

        size = next(iter(load_kernels(operator).values())).shape[0]
        kwargs = {"kernel_size": size, **config.model_kwargs}
        config = dataclasses.replace(config, operator=str(operator), model_kwargs=kwargs)
    if isinstance(dataset_path, str | Path):
        dataset_path, table_path = [dataset_path], [table_path]
    tables = [pd.read_parquet(p) for p in table_path]
    history = train(
        dataset_path[0] if len(dataset_path) == 1 else list(dataset_path),
        tables[0] if len(tables) == 1 else tables,
        config,
        work_dir,
        dataset_info=pooled_pair_info(list(dataset_path)),
    )
    with atomic_path(out_checkpoint) as tmp:
        shutil.copyfile(Path(work_dir) / "best.pt", tmp)
    write_table(history, out_history)
    if out_timing:
        last = read_resume_state(Path(work_dir) / "last.pt", "cpu")
        timing = {
            "train_seconds": round(float(last.train_seconds), 2),
            "epochs": len(history),
            "device": last.device,
        }
        with atomic_path(out_timing) as tmp:
            Path(tmp).write_text(json.dumps(timing) + "\n")
    shutil.rmtree(work_dir)


def evaluate_model(
    checkpoint: str | Path,
    dataset_path: str | Path,
    table_path: str | Path,
    out_pairs: str | Path,
    out_by_dz: str | Path,
) -> None:
    """PSNR/SSIM of input and prediction on the test split, per pair and per |dz|."""
    from platefocus.model_io.checkpoint import load_model
    from platefocus.train.evaluate import evaluate_split, summarise_by_dz

    model, _ = load_model(checkpoint)
    per_pair = evaluate_split(model, dataset_path, pd.read_parquet(table_path))
    write_table(per_pair, out_pairs)
    summary = summarise_by_dz(per_pair)
    write_table(summary, out_by_dz)
    log.info("test split by |dz|:\n%s", summary.to_string(index=False))


def plot_training(
    histories: list[str | Path],
    summaries: list[str | Path],
    names: list[str],
    out_curves: str | Path,
    out_metrics: str | Path,
    labels: list[str] | None = None,
) -> None:
    """Training curves and metric-against-dz figures of every trained model, named by
    ``labels`` (e.g. with their loss, :func:`platefocus.pipeline.common.model_labels`)."""
    names = list(labels) if labels else names
    from platefocus.report.style import save_figure
    from platefocus.report.training import metrics_by_dz, training_curves

    save_figure(
        training_curves({n: read_table(h) for n, h in zip(names, histories, strict=True)}),
        out_curves,
    )
    save_figure(
        metrics_by_dz({n: read_table(s) for n, s in zip(names, summaries, strict=True)}),
        out_metrics,
    )


def export_model(
    checkpoint: str | Path,
    plate_path: str | Path,
    out_package: str | Path,
    best_path: str | Path | None = None,
    channel: int = 1,
    crop: int = 256,
) -> Path:
    """Export a checkpoint as a bioimage.io package, with a plane of the plate as its test
    input: the first field's plane at the checkpoint's largest training offset from the
    field's best plane (``best_path``; without it, the middle plane), its centre
    ``crop`` x ``crop`` pixels (rounded down to a size the package accepts: 32 + 16 n)."""
    import numpy as np

    from platefocus.io.fields import field_array, list_fields
    from platefocus.io.plate_input import read_plate_manifest
    from platefocus.model_io.checkpoint import read_model_info
    from platefocus.train.export import export_package

    manifest, _ = read_plate_manifest(plate_path)
    ref = list_fields(manifest)[0]
    stack = field_array(plate_path, ref)[ref.channels.index(channel)]
    z = len(ref.z_indices) // 2
    if best_path is not None:
        best = pd.read_parquet(best_path)
        row = best[
            (best["well"] == ref.well)
            & (best["site"] == ref.site)
            & (best["channel"] == channel)
            & (best["region"] == "field")
        ]
        offsets = read_model_info(checkpoint).offsets or (0,)
        if len(row):
            z = int(row["best_z"].iloc[0]) + max(offsets, key=abs)
    z = min(max(z, 0), len(ref.z_indices) - 1)
    height, width = stack.shape[1:]
    side = [32 + 16 * ((min(crop, n) - 32) // 16) for n in (height, width)]
    if min(side) < 32:
        raise ValueError(f"fields of {height} x {width} are smaller than a package's 32 x 32")
    y0, x0 = (height - side[0]) // 2, (width - side[1]) // 2
    plane = np.asarray(stack[z, y0 : y0 + side[0], x0 : x0 + side[1]])
    return export_package(checkpoint, plane, out_package)
