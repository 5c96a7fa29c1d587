"""Rules of ``workflow/rules/training.smk``: training pairs, training, evaluation on the
held-out wells, and the training figures."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pandas as pd

from platefocus.io.atomic import atomic_path, read_table, write_table

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


def train_model(
    dataset_path: str | Path,
    table_path: str | Path,
    model: str,
    training: dict,
    work_dir: str | Path,
    out_checkpoint: str | Path,
    out_history: str | Path,
    threads: int = 1,
    out_timing: str | Path | None = None,
) -> None:
    """Train one registered model; resume from ``work_dir`` after an interruption.

    ``out_timing`` (JSON): training wall time, epochs run and device, kept apart from the
    checkpoint and history (the workflow writes it beside the logs) so that seeded reruns
    give byte-identical results. ``work_dir`` (resume state, which holds the wall time) is
    removed once the checkpoint, history and timing are written: it has served its purpose.
    """
    from platefocus.io.pairs import read_pair_info
    from platefocus.train.checkpoint import read_checkpoint
    from platefocus.train.loop import TrainConfig, train

    config = TrainConfig.from_config(training, model, threads)
    history = train(
        dataset_path,
        pd.read_parquet(table_path),
        config,
        work_dir,
        dataset_info=read_pair_info(dataset_path),
    )
    with atomic_path(out_checkpoint) as tmp:
        shutil.copyfile(Path(work_dir) / "best.pt", tmp)
    write_table(history, out_history)
    if out_timing:
        last = read_checkpoint(Path(work_dir) / "last.pt")
        timing = {
            "train_seconds": round(float(last.get("train_seconds", 0.0)), 2),
            "epochs": len(history),
            "device": last.get("device", "cpu"),
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
    from platefocus.train.checkpoint import load_checkpoint
    from platefocus.train.evaluate import evaluate_split, summarise_by_dz

    model, _ = load_checkpoint(checkpoint)
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
) -> None:
    """Training curves and metric-against-dz figures of every trained model."""
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
