"""Shared figure helpers: a non-interactive backend and atomic PNG writing."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from platefocus.io.atomic import atomic_path

# Fixed metadata keep PNGs byte-identical between seeded reruns.
PNG_METADATA = {"Software": None}


def save_figure(fig, path: str | os.PathLike, dpi: int = 110) -> None:
    """Save a figure as PNG atomically and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight", metadata=PNG_METADATA)
    plt.close(fig)


def well_grid(values, rows: list[str], columns: list[int]):
    """Arrange ``{(row, column): value}`` into a (rows, columns) float array (NaN = none)."""
    import numpy as np

    grid = np.full((len(rows), len(columns)), np.nan)
    for (r, c), v in values.items():
        grid[rows.index(r), columns.index(c)] = v
    return grid
