"""Figures of the physics consistency: the defocus kernels, estimated against physical."""

from __future__ import annotations

import numpy as np
import pandas as pd

from platefocus.report.style import plt


def operator_profiles(estimated: dict, physical: dict, table: pd.DataFrame):
    """Left: radial profiles of each offset's kernel, estimated from the stack (solid) and
    from the PSF model (dashed), one colour per offset. Right: their half-mass radii against
    the offset in micrometres."""
    from platefocus.consistency.operator import radial_profile

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    shown = sorted(estimated, key=lambda d: (abs(d), d))
    shown = [d for d in shown if d > 0] or shown  # one side: the profiles are symmetric
    for i, dz in enumerate(shown[:: max(1, len(shown) // 6)]):
        um = float(table.set_index("dz").loc[dz, "dz_um"])
        r, est = radial_profile(estimated[dz])
        _, phys = radial_profile(physical[dz])
        left.plot(r, est, "-", color=f"C{i}", label=f"{um:+g} um")
        left.plot(r, phys, "--", color=f"C{i}")
    left.set_yscale("log")
    left.set_ylim(bottom=max(1e-6, left.get_ylim()[0]))
    left.set_xlabel("radius (px)")
    left.set_ylabel("kernel value (unit sum)")
    left.set_title("Radial profiles: estimated (solid), PSF model (dashed)", fontsize=10)
    left.legend(fontsize=8)
    ordered = table.sort_values("dz_um")
    right.plot(ordered["dz_um"], ordered["width_estimated_px"], "-o", ms=3, label="estimated")
    right.plot(ordered["dz_um"], ordered["width_physical_px"], "k--x", label="PSF model")
    right.set_xlabel("offset from best focus (um)")
    right.set_ylabel("half-mass radius (px)")
    corr = np.nanmean(table["profile_correlation"])
    right.set_title(f"Kernel width; mean profile correlation {corr:.2f}", fontsize=10)
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def hallucination_figure(example: dict | None, planes: pd.DataFrame):
    """Top: one held-out plane's observation, restoration (flagged objects outlined red,
    the others yellow) and hallucination map ``(A x - y) / sigma``. Bottom: the fraction
    of restored objects flagged per well (plate map), and mean counts per |dz| of the raw,
    the restored, the restored without flagged objects, and the truth."""
    from skimage.segmentation import find_boundaries

    from platefocus.dataset.normalise import percentile_range
    from platefocus.report.style import well_grid

    fig = plt.figure(figsize=(12, 8))
    grid = fig.add_gridspec(2, 3)
    if example is not None:
        lo, hi = percentile_range(example["restored"])
        for i, (key, name) in enumerate(
            (("observed", "observed (defocused)"), ("restored", "restored"))
        ):
            ax = fig.add_subplot(grid[0, i])
            img = np.clip((example[key].astype(float) - lo) / (hi - lo), 0, 1)
            rgb = np.dstack([img] * 3)
            if key == "restored":
                flagged = np.isin(example["labels"], example["flagged"])
                edges = find_boundaries(example["labels"])
                rgb[edges & ~flagged] = (1.0, 0.8, 0.0)
                rgb[edges & flagged] = (1.0, 0.1, 0.1)
            ax.imshow(rgb)
            ax.set_title(name, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        ax = fig.add_subplot(grid[0, 2])
        shown = ax.imshow(example["residual"], cmap="RdBu_r", vmin=-5, vmax=5)
        fig.colorbar(shown, ax=ax, fraction=0.046, label="(A x - y) / noise")
        ax.set_title("hallucination map (red: light the observation lacks)", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.text(0.5, 0.97, example["title"], ha="center", fontsize=10)
    ax = fig.add_subplot(grid[1, 0:2])
    per_well = planes.groupby("well").agg(
        flagged=("count_flagged", "sum"), restored=("count_restored", "sum")
    )
    fraction = per_well["flagged"] / per_well["restored"].clip(lower=1)
    by_position = _by_position(fraction)
    rows = sorted({r for r, _ in by_position}, key=lambda r: (len(r), r))
    columns = sorted({c for _, c in by_position})
    image = well_grid(by_position, rows, columns)
    shown = ax.imshow(image, cmap="magma", vmin=0, vmax=max(0.05, float(np.nanmax(image))))
    ax.set_xticks(range(len(columns)), columns, fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    fig.colorbar(shown, ax=ax, fraction=0.03, label="flagged fraction")
    ax.set_title("Restored objects flagged (no support in the observation), per well", fontsize=10)
    ax = fig.add_subplot(grid[1, 2])
    counts = (
        planes.assign(
            abs_dz=planes["dz"].abs(),
            count_without=planes["count_restored"] - planes["count_flagged"],
        )
        .groupby("abs_dz")[["count_raw", "count_restored", "count_without", "count_truth"]]
        .mean()
    )
    x = np.arange(len(counts))
    labels = ("raw", "restored", "restored, unflagged", "truth")
    for i, (column, label) in enumerate(zip(counts.columns, labels, strict=True)):
        ax.bar(x + (i - 1.5) * 0.2, counts[column], width=0.2, label=label, color=f"C{i}")
    ax.set_xticks(x, [f"{d:g}" for d in counts.index])
    ax.set_xlabel("|dz| (planes)")
    ax.set_ylabel("objects per field")
    ax.set_title("Counts with and without flagged objects", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return fig


def _by_position(per_well: pd.Series) -> dict[tuple[str, int], float]:
    """``{(row, column): value}`` of a per-well series (wells parsed once)."""
    from platefocus.io.discover import parse_well

    out = {}
    for well, value in per_well.items():
        row, column = parse_well(well)
        out[(row, int(column))] = value
    return out
