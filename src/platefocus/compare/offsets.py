"""Restoration quality per plane offset, in micrometres, above and below focus apart.

From each model's per-plane segmentation table (:func:`platefocus.compare.segmentation.
compare_plate`: one row per restored plane of every field, with its signed offset ``dz``
from the field's best plane, in planes), one row per model and signed offset: PSNR and
SSIM of whole planes against the best plane, segmentation F1 against the truth objects,
and the relative count error ``|count - truth| / truth``. The ``input`` rows are the same
numbers for the unrestored planes. Held-out (``test``) wells only when there are any.

Large defocus is the point: with ``restore.planes: {mode: all}`` every plane of the stack
is a row, so a model trained on a few planes of one side (ReFocus: z = 1, 5, 10 to z = 16)
is measured on the other side too (``in_training`` says which offsets it saw).

Where the comparison also measured the data-consistency projection
(:mod:`platefocus.consistency.projection`, ``*_projected`` columns), each model has a
second row set, ``<model> + projection``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from platefocus.dataset.split import held_out_planes

INPUT = "input (no restoration)"
METRICS = ("psnr", "ssim", "f1", "count_error")


def _held_out(planes: pd.DataFrame) -> pd.DataFrame:
    """The held-out wells' planes (every plane when no well is held out), with an offset."""
    planes = held_out_planes(planes)
    return planes[planes["dz"].notna()]


def _per_offset(planes: pd.DataFrame, which: str) -> pd.DataFrame:
    """Mean metrics per signed offset for ``which`` = ``raw`` or ``restored``."""
    truth = planes["count_truth"].clip(lower=1)
    frame = pd.DataFrame(
        {
            "dz": planes["dz"].astype(int),
            "psnr": planes[f"psnr_{which}"],
            "ssim": planes[f"ssim_{which}"],
            "f1": planes[f"f1_{which}"],
            "count_error": (planes[f"count_{which}"] - planes["count_truth"]).abs() / truth,
        }
    )
    means = frame.groupby("dz")[list(METRICS)].mean()
    return means.join(frame.groupby("dz").size().rename("n_planes")).reset_index()


def offset_table(
    names: Sequence[str],
    segmentation_fields: Sequence[str | os.PathLike],
    z_step_um: float,
    in_training: Callable[[int], bool] | None = None,
) -> pd.DataFrame:
    """One row per model (and the input) and signed offset; see the module doc.

    Parameters
    ----------
    names, segmentation_fields
        Model names and their ``fields.parquet`` tables (same order).
    z_step_um
        Plane spacing, micrometres: ``dz_um = dz * z_step_um``.
    in_training
        Whether the training pairs held an offset (``DatasetConfig.trains_on``).

    Returns
    -------
    DataFrame
        ``model, dz, dz_um, side, in_training, n_planes, psnr, ssim, f1, count_error``;
        ``side`` is ``above`` (dz > 0), ``below`` (dz < 0) or ``focus``.
    """
    frames = []
    for name, path in zip(names, segmentation_fields, strict=True):
        planes = _held_out(pd.read_parquet(path))
        if not frames:
            frames.append(_per_offset(planes, "raw").assign(model=INPUT))
        frames.append(_per_offset(planes, "restored").assign(model=name))
        if "psnr_projected" in planes and planes["psnr_projected"].notna().any():
            projected = planes[planes["psnr_projected"].notna()]
            frames.append(_per_offset(projected, "projected").assign(model=f"{name} + projection"))
    table = pd.concat(frames, ignore_index=True)
    table["dz_um"] = table["dz"] * float(z_step_um)
    table["side"] = np.select([table["dz"] > 0, table["dz"] < 0], ["above", "below"], "focus")
    trained = in_training or (lambda dz: True)
    table["in_training"] = [dz != 0 and bool(trained(int(dz))) for dz in table["dz"]]
    columns = ["model", "dz", "dz_um", "side", "in_training", "n_planes", *METRICS]
    return table[columns]


def offsets_wide(table: pd.DataFrame, metrics: Sequence[str] = METRICS) -> pd.DataFrame:
    """The offset table as one row per offset (um) and a column per metric and model
    (``<metric> <model>``), input first, for reading and for the README."""
    order = list(dict.fromkeys(table["model"]))
    wide = table.pivot_table(index=["dz_um", "side"], columns="model", values=list(metrics))
    wide = wide.reindex(columns=[(m, model) for m in metrics for model in order])
    wide.columns = [f"{m} {'input' if model == INPUT else model}" for m, model in wide.columns]
    return wide.reset_index()


def beats_input(table: pd.DataFrame, metric: str = "ssim") -> pd.DataFrame:
    """Per model and offset, whether the restored planes score better than the input
    (higher PSNR/SSIM/F1, lower count error): ``model, dz, dz_um, better``."""
    inputs = table[table["model"] == INPUT].set_index("dz")[metric]
    rows = table[table["model"] != INPUT]
    sign = -1.0 if metric == "count_error" else 1.0
    better = sign * (rows[metric].to_numpy() - inputs.loc[rows["dz"]].to_numpy()) > 0
    return rows[["model", "dz", "dz_um"]].assign(better=better).reset_index(drop=True)
