"""Bright rims at plane borders: how restoration changes the border-to-interior intensity
ratio, with the tiler's two paddings (``restore.border``: ``even`` plain mirror, ``odd``
point reflection), on the real BBBC006 planes at z = 00 (out of focus, ../shared/realdata).

The ratio is the mean of the outer 4 px over the mean of the interior (32 px in); the
table gives restored / input per plane (1 = the border kept as it was).

    python benchmarks/bench_border.py [--checkpoint results/demo/models/restormer/checkpoint.pt]

(the checkpoint ``make demo`` trains). Last line:
``rim_change_even_mean=.. rim_change_odd_mean=.. rim_change_odd_max_dev=..``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import tifffile

from platefocus.model_io.checkpoint import load_model
from platefocus.restore.inference import restore_planes
from platefocus.restore.settings import RestoreConfig

REPO = Path(__file__).resolve().parents[1]
PLANES = REPO.parent / "shared" / "realdata" / "bbbc006" / "BBBC006_v1_images_z_00"
BORDER, MARGIN = 4, 32


def rim_ratio(plane: np.ndarray) -> float:
    a = np.asarray(plane, dtype=np.float64)
    b = BORDER
    rim = np.concatenate([a[:b].ravel(), a[-b:].ravel(), a[:, :b].ravel(), a[:, -b:].ravel()])
    return float(rim.mean() / a[MARGIN:-MARGIN, MARGIN:-MARGIN].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--checkpoint", default=str(REPO / "results/demo/models/restormer/checkpoint.pt")
    )
    parser.add_argument("--tile", type=int, default=160)
    parser.add_argument("--overlap", type=int, default=32)
    args = parser.parse_args()
    model, _ = load_model(args.checkpoint)
    rows = []
    for path in sorted(PLANES.glob("*.tif")):
        plane = tifffile.imread(path)
        row = {"plane": path.name.split("_")[1:3], "input": rim_ratio(plane)}
        for border in ("even", "odd"):
            config = RestoreConfig(tile=args.tile, overlap=args.overlap, border=border)
            restored = restore_planes(model, plane[None], [0], config)[0]
            row[border] = rim_ratio(restored) / row["input"]
        rows.append(row)
        print(
            f"{'_'.join(row['plane']):10s} input {row['input']:.3f}  restored/input: "
            f"even {row['even']:.3f}  odd {row['odd']:.3f}",
            flush=True,
        )
    even = np.array([r["even"] for r in rows])
    odd = np.array([r["odd"] for r in rows])
    print(
        f"{len(rows)} planes: even {even.mean():.3f} ({even.min():.3f}-{even.max():.3f}), "
        f"odd {odd.mean():.3f} ({odd.min():.3f}-{odd.max():.3f})"
    )
    print(
        f"rim_change_even_mean={even.mean():.3f} rim_change_odd_mean={odd.mean():.3f} "
        f"rim_change_odd_max_dev={np.abs(odd - 1).max():.3f}"
    )


if __name__ == "__main__":
    main()
