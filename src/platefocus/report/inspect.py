"""The plate map of an inventory: what was found in each well, before any work."""

from __future__ import annotations

import pandas as pd

from platefocus.report.style import plt, well_grid


def plate_map(fields: pd.DataFrame):
    """Wells coloured by planes found (fewest over the well's fields), with sites found;
    wells with missing planes are marked with a red frame.

    ``fields``: :attr:`platefocus.io.inventory.Inventory.fields`.
    """
    rows, columns = _plate_format(fields)
    per_well = fields.groupby(["row", "column"])
    planes = {(r, int(c)): g["planes"].min() for (r, c), g in per_well}
    grid = well_grid(planes, rows, columns)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.42 * len(columns)), max(3.0, 0.36 * len(rows))))
    im = ax.imshow(grid, cmap="viridis", vmin=0, aspect="equal")
    for (r, c), g in per_well:
        y, x = rows.index(r), columns.index(int(c))
        ax.text(x, y, str(g["site"].nunique()), ha="center", va="center", fontsize=7, color="k")
        if (g["missing_z"] != "").any():
            ax.add_patch(plt.Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, ec="red", lw=2))
    ax.set_xticks(range(len(columns)), [str(c) for c in columns], fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    fig.colorbar(im, ax=ax, label="planes found", shrink=0.8)
    ax.set_title(
        "Found: colour = planes (fewest of a well's fields), number = sites,\n"
        "red frame = missing planes",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


#: Standard plate formats: (rows, columns) of 96, 384 and 1536 wells.
PLATE_FORMATS = ((8, 12), (16, 24), (32, 48))


def _plate_format(fields: pd.DataFrame) -> tuple[list[str], list[int]]:
    """Row names and column numbers of the smallest standard plate holding the wells."""
    letters = [chr(ord("A") + i) for i in range(26)]
    names = letters + [f"A{c}" for c in letters]  # rows after Z: AA, AB, ...
    last_row = max(names.index(r) if r in names else 0 for r in fields["row"].unique())
    last_column = int(fields["column"].max())
    n_rows, n_columns = next(
        ((r, c) for r, c in PLATE_FORMATS if last_row < r and last_column <= c),
        (last_row + 1, last_column),
    )
    return names[:n_rows], list(range(1, n_columns + 1))
