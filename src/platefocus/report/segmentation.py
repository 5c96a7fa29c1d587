"""Figures comparing raw and restored planes: SSIM pairs, counts, plate maps, examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
from skimage.segmentation import find_boundaries

from platefocus.dataset.normalise import percentile_range
from platefocus.report.style import plt, well_grid


def paired_ssim(planes: pd.DataFrame):
    """SSIM of the restored against the raw plane, one point per field and plane; for a
    plate of single planes (no in-focus reference, no SSIM) their sharpness instead."""
    if planes["ssim_raw"].isna().all():
        return paired_sharpness(planes)
    fig, ax = plt.subplots(figsize=(4.8, 4.5))
    for i, (adz, g) in enumerate(planes.assign(a=planes["dz"].abs()).groupby("a")):
        ax.scatter(g["ssim_raw"], g["ssim_restored"], s=14, color=f"C{i}", label=f"|dz|={adz}")
    lo = min(planes["ssim_raw"].min(), planes["ssim_restored"].min(), 0)
    ax.plot([lo, 1], [lo, 1], "k--", lw=0.8)
    ax.set_xlabel("SSIM raw vs in-focus")
    ax.set_ylabel("SSIM restored vs in-focus")
    better = (planes["ssim_restored"] > planes["ssim_raw"]).mean()
    ax.set_title(f"Paired SSIM per field: restored better in {better:.0%}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def paired_sharpness(planes: pd.DataFrame):
    """Sharpness (mean Tenengrad) of the restored against the raw plane, per field."""
    fig, ax = plt.subplots(figsize=(4.8, 4.5))
    ax.scatter(planes["sharpness_raw"], planes["sharpness_restored"], s=14, color="C0")
    top = max(planes["sharpness_raw"].max(), planes["sharpness_restored"].max())
    ax.plot([0, top], [0, top], "k--", lw=0.8)
    ax.set_xlabel("sharpness raw (mean Tenengrad)")
    ax.set_ylabel("sharpness restored (mean Tenengrad)")
    ax.ticklabel_format(style="sci", scilimits=(-3, 3))
    sharper = (planes["sharpness_restored"] > planes["sharpness_raw"]).mean()
    ax.set_title(
        f"No in-focus reference (one plane per field):\nrestored sharper in {sharper:.0%}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def counts_per_well(planes: pd.DataFrame):
    """Mean object count per well: raw, restored and truth, with the well's split."""
    per = planes.groupby(["well", "split"])[["count_raw", "count_restored", "count_truth"]]
    per = per.mean().reset_index()
    x = np.arange(len(per))
    fig, ax = plt.subplots(figsize=(max(5, 0.55 * len(per) + 2), 3.6))
    for i, (col, label) in enumerate(
        (("count_raw", "raw"), ("count_restored", "restored"), ("count_truth", "truth"))
    ):
        ax.bar(x + (i - 1) * 0.27, per[col], width=0.27, label=label, color=f"C{i}")
    ax.set_xticks(
        x, [f"{w}\n{s}" for w, s in zip(per["well"], per["split"], strict=True)], fontsize=7
    )
    ax.set_ylabel("objects per field (mean over planes)")
    ax.set_title("Counts per well: raw vs restored vs truth", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def gain_heatmaps(planes: pd.DataFrame, best: pd.DataFrame):
    """Plate maps of count gain, F1 gain (restored - raw) and best plane per well."""
    from platefocus.io.discover import parse_well

    frame = planes.copy()
    frame["row"], frame["column"] = zip(*(parse_well(w) for w in frame["well"]), strict=True)
    rows = sorted(frame["row"].unique(), key=lambda r: (len(r), r))
    columns = sorted(int(c) for c in frame["column"].unique())
    gains = frame.assign(
        count_gain=frame["count_restored"] - frame["count_raw"],
        f1_gain=frame["f1_restored"] - frame["f1_raw"],
    )
    field = best[(best["region"] == "field") & (best["channel"] == best["channel"].min())]
    panels = [
        (
            "count gain (restored - raw)",
            gains.groupby(["row", "column"])["count_gain"].mean(),
            "RdBu",
        ),
        ("F1 gain (restored - raw)", gains.groupby(["row", "column"])["f1_gain"].mean(), "RdBu"),
        ("best plane (z)", field.groupby(["row", "column"])["best_z_refined"].mean(), "viridis"),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 0.5 * len(rows) + 2.2))
    for ax, (title, series, cmap) in zip(axes, panels, strict=True):
        grid = well_grid({(r, int(c)): v for (r, c), v in series.items()}, rows, columns)
        kwargs = {}
        if cmap == "RdBu":
            bound = np.nanmax(np.abs(grid)) or 1.0
            kwargs = dict(vmin=-bound, vmax=bound)
        im = ax.imshow(grid, cmap=cmap, **kwargs)
        ax.set_xticks(range(len(columns)), [str(c) for c in columns], fontsize=7)
        ax.set_yticks(range(len(rows)), rows, fontsize=7)
        ax.set_title(title, fontsize=10)
        if grid.size <= 96:
            for (i, j), v in np.ndenumerate(grid):
                if np.isfinite(v):
                    ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7)
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    return fig


def example_panels(examples: list[dict]):
    """Rows of raw | restored | in-focus, each with its segmentation outlined.

    Each example holds ``title``, ``raw``, ``restored``, ``truth`` images and
    ``raw_labels``, ``restored_labels``, ``truth_labels``.
    """
    columns = 3 if all("truth" in ex for ex in examples) else 2
    fig, axes = plt.subplots(
        len(examples), columns, figsize=(11 * columns / 3, 3.7 * len(examples)), squeeze=False
    )
    names = (("raw", "raw (defocused)"), ("restored", "restored"), ("truth", "in focus (truth)"))
    for row, ex in zip(axes, examples, strict=True):
        lo, hi = percentile_range(ex["truth"] if "truth" in ex else ex["restored"])
        for ax, (key, name) in zip(row, names[:columns], strict=True):
            img = np.clip((ex[key].astype(float) - lo) / (hi - lo), 0, 1)
            rgb = np.dstack([img] * 3)
            rgb[find_boundaries(ex[f"{key}_labels"])] = (1.0, 0.8, 0.0)
            ax.imshow(rgb)
            ax.set_title(f"{name}: {int(ex[f'{key}_labels'].max())} objects", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(ex["title"], fontsize=9)
    fig.tight_layout()
    return fig
