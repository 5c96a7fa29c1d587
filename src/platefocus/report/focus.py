"""Focus QC figures: focus curves, plate heat maps, and a field's focus map."""

from __future__ import annotations

import numpy as np
import pandas as pd

from platefocus.dataset.normalise import percentile_range
from platefocus.report.style import plt, well_grid


def _plate_axes(frame: pd.DataFrame):
    rows = sorted(frame["row"].unique(), key=lambda r: (len(r), r))
    columns = sorted(int(c) for c in frame["column"].unique())
    return rows, columns


def focus_curves(scores: pd.DataFrame, best: pd.DataFrame, metric: str, n_fields: int = 4):
    """Score against z for the first ``n_fields`` fields: whole field and every tile.

    The chosen best plane of each curve is marked; scores are divided by each curve's
    maximum so that tiles of different brightness share an axis.
    """
    fields = scores[["well", "site"]].drop_duplicates().head(n_fields)
    channel = int(scores["channel"].min())
    fig, axes = plt.subplots(1, len(fields), figsize=(3.6 * len(fields), 3.2), squeeze=False)
    for ax, (_, f) in zip(axes[0], fields.iterrows(), strict=True):
        sel = (scores["well"] == f["well"]) & (scores["site"] == f["site"])
        sel &= scores["channel"] == channel
        for region, g in scores[sel].groupby("region", sort=False):
            g = g.sort_values("z")
            y = g[metric] / g[metric].abs().max()
            style = dict(lw=2.2, color="k") if region == "field" else dict(lw=1.2)
            ax.plot(g["z"], y, label=region, **style)
            b = best[
                (best["well"] == f["well"])
                & (best["site"] == f["site"])
                & (best["region"] == region)
                & (best["channel"] == channel)
            ]
            if len(b):
                ax.axvline(
                    b["best_z_refined"].iloc[0], ls=":", color=style.get("color", "C7"), lw=0.8
                )
        ax.set_title(f"{f['well']} site {f['site']}")
        ax.set_xlabel("plane z")
    axes[0][0].set_ylabel(f"{metric} / max")
    axes[0][-1].legend(fontsize=7, loc="upper right")
    fig.suptitle(f"Focus curves ({metric}); dotted: chosen best plane", fontsize=10)
    fig.tight_layout()
    return fig


def plate_heatmaps(best: pd.DataFrame, targets: pd.DataFrame):
    """Plate maps: best plane per well, focus-curve prominence, and targets kept.

    Values are means over the well's fields (whole-field region, first channel); a
    tilted plate shows as a gradient, a failed well as an outlier.
    """
    channel = int(best["channel"].min())
    field = best[(best["region"] == "field") & (best["channel"] == channel)]
    rows, columns = _plate_axes(field)
    panels = [
        ("best plane (z)", field.groupby(["row", "column"])["best_z_refined"].mean(), "viridis"),
        ("focus prominence", field.groupby(["row", "column"])["prominence"].mean(), "magma"),
        (
            "targets kept (fraction of tiles)",
            targets.groupby(["row", "column"])["keep"].mean() if len(targets) else pd.Series(),
            "RdYlGn",
        ),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(4.5 * 3, 0.5 * len(rows) + 2.2))
    for ax, (title, series, cmap) in zip(axes, panels, strict=True):
        grid = well_grid({(r, int(c)): v for (r, c), v in series.items()}, rows, columns)
        im = ax.imshow(grid, cmap=cmap, aspect="equal")
        ax.set_xticks(range(len(columns)), [str(c) for c in columns], fontsize=7)
        ax.set_yticks(range(len(rows)), rows, fontsize=7)
        ax.set_title(title, fontsize=10)
        for (i, j), v in np.ndenumerate(grid):
            if np.isfinite(v) and grid.size <= 96:
                ax.text(
                    j,
                    i,
                    f"{v:.1f}" if "fraction" not in title else f"{v:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="w",
                )
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    return fig


def field_focus_map(
    image: np.ndarray, edge_strength: np.ndarray, local_best: np.ndarray, title: str
):
    """A plane beside its per-tile edge strength and per-tile best plane.

    Parameters
    ----------
    image : (Y, X) array
        The field at its best plane.
    edge_strength : (n, m) array
        Tenengrad of each tile of an n x m grid over that plane.
    local_best : (n, m) array
        Best plane of each tile over the whole stack (NaN for empty tiles): the local
        focal surface, where a tilt or a bow of the field shows.
    """
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    lo, hi = percentile_range(image)
    axes[0].imshow(image, cmap="gray", vmin=lo, vmax=hi)
    axes[0].set_title(title, fontsize=10)
    extent = (0, image.shape[1], image.shape[0], 0)
    im = axes[1].imshow(np.log10(np.maximum(edge_strength, 1e-12)), cmap="inferno", extent=extent)
    axes[1].set_title("edge strength per tile (log10 Tenengrad)", fontsize=10)
    fig.colorbar(im, ax=axes[1], shrink=0.8)
    im = axes[2].imshow(local_best, cmap="viridis", extent=extent)
    axes[2].set_title("best plane per tile (focal surface)", fontsize=10)
    fig.colorbar(im, ax=axes[2], shrink=0.8)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def accuracy_histogram(accuracy: pd.DataFrame):
    """Histogram of chosen minus true best plane, with the within-one-plane fraction."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.hist(accuracy["error_refined"], bins=np.arange(-3, 3.01, 0.25), color="C0")
    ax.axvspan(-1, 1, color="C2", alpha=0.15)
    frac = accuracy["within_one"].mean() if len(accuracy) else float("nan")
    ax.set_title(
        f"chosen - true best plane: {frac:.1%} within one plane (n={len(accuracy)})", fontsize=10
    )
    ax.set_xlabel("error (planes)")
    ax.set_ylabel("regions")
    fig.tight_layout()
    return fig
