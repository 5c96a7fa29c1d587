"""The training-pair store: a Zarr v3 group with arrays ``input`` (N, C, P, P) and
``target`` (N, 1, P, P), float32, and how the pairs were made in its ``platefocus``
attributes. The only code that reads or writes this store."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import zarr

#: Pairs per chunk of the ``input`` and ``target`` arrays.
PAIRS_PER_CHUNK = 256


class PairWriter:
    """Appends batches of pairs to a new store at ``path`` (a temporary, renamed later)."""

    def __init__(self, path: str | os.PathLike, in_channels: int, patch_size: int) -> None:
        self.group = zarr.open_group(str(path), mode="w", zarr_format=3)
        p = patch_size
        self.arrays = {
            name: self.group.create_array(
                name, shape=(0, ch, p, p), chunks=(PAIRS_PER_CHUNK, ch, p, p), dtype="float32"
            )
            for name, ch in (("input", in_channels), ("target", 1))
        }

    def append(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        """Add ``inputs`` (n, C, P, P) and ``targets`` (n, 1, P, P), cast to float32."""
        self.arrays["input"].append(inputs.astype(np.float32))
        self.arrays["target"].append(targets.astype(np.float32))

    def describe(self, info: dict) -> None:
        """Record how the pairs were made (offsets, normalisation, ...)."""
        self.group.attrs["platefocus"] = info


def read_pair_info(path: str | os.PathLike) -> dict:
    """How the pairs of a store were made (written by :meth:`PairWriter.describe`)."""
    return dict(zarr.open_group(str(path), mode="r").attrs["platefocus"])


def read_split(path: str | os.PathLike, table: pd.DataFrame, split: str):
    """Input and target arrays of one split, in memory: ``(x (N, C, P, P), y (N, 1, P, P),
    indices)``, ``indices`` the rows of ``table`` (one row per pair) they come from."""
    group = zarr.open_group(str(path), mode="r")
    idx = np.nonzero((table["split"] == split).to_numpy())[0]
    if len(idx) == 0:
        return np.zeros((0, 1, 1, 1), np.float32), np.zeros((0, 1, 1, 1), np.float32), idx
    return group["input"].oindex[idx], group["target"].oindex[idx], idx
