"""The plate map of an inventory: what was found in each well, before any work."""

from __future__ import annotations

import pandas as pd

from platefocus.report.style import plt, well_grid


def plate_map(fields: pd.DataFrame):
    """Wells coloured by planes found (fewest over the well's fields), with sites found;
    wells with missing planes are marked with a red frame.

    ``fields``: :attr:`platefocus.io.inventory.Inventory.fields`.
    """
    rows = sorted(fields["row"].unique(), key=lambda r: (len(r), r))
    last = max(rows, key=lambda r: (len(r), r))
    all_rows = [chr(ord("A") + i) for i in range(16 if last <= "P" else 32)]
    rows = all_rows if len(last) == 1 else rows
    columns = list(range(1, max(int(fields["column"].max()), 12) + 1))
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
    fig.colorbar(im, ax=ax, label="planes found (fewest of the well's fields)", shrink=0.8)
    ax.set_title(
        "What was found: colour = planes, number = sites, red frame = missing planes",
        fontsize=9,
    )
    fig.tight_layout()
    return fig
