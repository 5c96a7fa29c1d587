"""A small plate made of real pixels: one real Z-stack cut into regions, each region the
field of its own well, written in the BBBC006 layout (one TIFF per plane).

This is how a real confocal stack (``skimage.data.cells3d``'s nuclei, for instance) runs
through the whole workflow, split by well like any plate. Regions do not overlap, so no
pixel is in two wells (and so in two dataset splits).
"""

from __future__ import annotations

import os
import shutil
import string
from pathlib import Path

import numpy as np
import tifffile

from platefocus.errors import InputError


def cut_stack_into_plate(
    stack_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    grid: tuple[int, int] = (2, 2),
    plate: str = "stack",
) -> list[str]:
    """Write the ``grid`` regions of a (Z, Y, X) stack as wells ``a01, a02, ...``.

    Files: ``<out_dir>/images/<plate>_z_NN/<plate>_<well>_s1_w1.tif``. The folder is
    written under a temporary name and renamed when complete. Returns the wells.
    """
    out = Path(out_dir)
    if out.exists():
        raise InputError(out, "already exists; remove it to cut the stack again")
    # The caller says the file is a Z-stack: a plain multi-page TIFF is taken as one.
    try:
        stack = tifffile.imread(stack_path)
    except FileNotFoundError:
        raise InputError(stack_path, "no such file") from None
    except Exception as err:  # tifffile raises many types for files it cannot read
        raise InputError(stack_path, f"cannot read TIFF ({type(err).__name__}: {err})") from None
    if stack.ndim != 3:
        raise InputError(stack_path, f"expected a (z, y, x) stack, got shape {stack.shape}")
    rows, columns = grid
    if rows > 26 or rows < 1 or columns < 1:
        raise InputError("grid", f"rows must be 1-26 and columns >= 1, got {grid}")
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    ys = np.array_split(np.arange(stack.shape[1]), rows)
    xs = np.array_split(np.arange(stack.shape[2]), columns)
    wells = []
    for r, y in enumerate(ys):
        for c, x in enumerate(xs):
            well = f"{string.ascii_lowercase[r]}{c + 1:02d}"
            wells.append(well)
            region = stack[:, y[0] : y[-1] + 1, x[0] : x[-1] + 1]
            for z, plane in enumerate(region):
                folder = tmp / "images" / f"{plate}_z_{z:02d}"
                folder.mkdir(parents=True, exist_ok=True)
                tifffile.imwrite(folder / f"{plate}_{well}_s1_w1.tif", plane, compression="zlib")
    tmp.rename(out)
    return wells
