"""Training pairs: (defocused plane, best plane) patches from the selected target tiles.

For every kept tile, the input is the plane ``dz`` planes from the tile's best plane
(``dz > 0``: higher plane index, called "above" focus; ``dz < 0``: "below") and the
target is the best plane itself. Both are normalised with the *input* plane's percentiles
(:mod:`platefocus.dataset.normalise`): the target's own range is unknown at inference, and sharing
one scale keeps the physics (defocus spreads the same light, so in-focus peaks rise above
1). The parameters are stored with every pair so inference can undo them.

The split is by well, so no field contributes to two splits; it depends only on the seed
and the set of wells.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from platefocus.dataset.normalise import DEFAULT_PERCENTILES, apply_range, percentile_range
from platefocus.errors import InputError
from platefocus.focus.metrics import tile_grid
from platefocus.io.atomic import atomic_path
from platefocus.io.fields import FieldRef, field_array, list_fields
from platefocus.io.pairs import PairWriter
from platefocus.logs import progress as progress_bar

log = logging.getLogger(__name__)

SIDES = ("both", "above", "below")
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class DatasetConfig:
    """How pairs are cut and split.

    Attributes
    ----------
    offsets : tuple of int
        Input planes relative to the best plane, in planes (non-zero).
    patch_size, stride : int
        Patch side and step inside a tile, pixels.
    percentiles : (float, float)
        Normalisation percentiles of the input plane.
    split_fractions : (float, float, float)
        Fractions of wells for train, validation and test.
    train_sides : str
        ``"both"``, or ``"above"``/``"below"`` to keep only that side in train and
        validation (the test split keeps both, to measure generalisation to the other).
    train_offsets : tuple of int or None
        The offsets cut into train and validation (a subset of ``offsets``); the test split
        keeps every offset, so a model trained on a few planes (ReFocus: z = 1, 5, 10 to
        z = 16) is evaluated on all of them. None: every offset.
    context_planes : int
        Neighbouring planes on each side of the input added as channels.
    grid : (int, int)
        The focus tile grid the targets refer to.
    channel : int
        Channel id (``w<n>``) to use.
    seed : int
        Seed of the split.
    """

    offsets: tuple[int, ...] = (-6, -4, -2, 2, 4, 6)
    patch_size: int = 64
    stride: int = 64
    percentiles: tuple[float, float] = DEFAULT_PERCENTILES
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    train_sides: str = "both"
    train_offsets: tuple[int, ...] | None = None
    context_planes: int = 0
    grid: tuple[int, int] = (2, 2)
    channel: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.offsets or 0 in self.offsets:
            raise ValueError(f"offsets must be non-empty and non-zero, got {self.offsets}")
        if self.train_sides not in SIDES:
            raise ValueError(f"train_sides must be one of {SIDES}, got {self.train_sides!r}")
        if self.train_offsets is not None and (
            not self.train_offsets or not set(self.train_offsets) <= set(self.offsets)
        ):
            raise ValueError(
                f"train_offsets {self.train_offsets} must be a non-empty subset of offsets "
                f"{self.offsets}"
            )
        if abs(sum(self.split_fractions) - 1) > 1e-6 or min(self.split_fractions) < 0:
            raise ValueError(f"split_fractions must be >= 0 and sum to 1: {self.split_fractions}")
        lo, hi = self.percentiles
        if not 0 <= lo < hi <= 100:
            raise ValueError(f"percentiles must satisfy 0 <= low < high <= 100: {self.percentiles}")
        if self.patch_size < 8 or self.stride < 1:
            raise ValueError("patch_size must be >= 8 and stride >= 1")

    @classmethod
    def from_config(cls, dataset: dict, grid: Sequence[int], channel: int) -> DatasetConfig:
        """The workflow's ``dataset`` section, with the focus tile ``grid`` and ``channel``."""
        return cls(
            offsets=tuple(dataset["offsets"]),
            patch_size=dataset["patch_size"],
            stride=dataset["stride"],
            percentiles=tuple(dataset["percentiles"]),
            split_fractions=tuple(dataset["split_fractions"]),
            train_sides=dataset["train_sides"],
            train_offsets=(
                None if dataset.get("train_offsets") is None else tuple(dataset["train_offsets"])
            ),
            context_planes=dataset["context_planes"],
            grid=tuple(grid),
            channel=channel,
            seed=dataset["seed"],
        )

    def trains_on(self, dz: int) -> bool:
        """Whether pairs at offset ``dz`` go into train and validation (the test split
        takes every offset)."""
        side = "above" if dz > 0 else "below"
        if self.train_sides not in ("both", side):
            return False
        return self.train_offsets is None or dz in self.train_offsets

    @property
    def in_channels(self) -> int:
        return 1 + 2 * self.context_planes


def split_wells(wells: Sequence[str], fractions: Sequence[float], seed: int) -> dict[str, str]:
    """Assign each well to train, val or test, deterministically from the seed.

    With three or more wells every split gets at least one; the rest follow the fractions.
    """
    wells = sorted(set(wells))
    order = np.random.default_rng(seed).permutation(len(wells))
    n = len(wells)
    n_test = round(fractions[2] * n)
    n_val = round(fractions[1] * n)
    if n >= 3:
        n_test = max(1, n_test) if fractions[2] > 0 else 0
        n_val = max(1, n_val) if fractions[1] > 0 else 0
    while n_test + n_val >= n and n_test + n_val > 0:  # keep at least one training well
        if n_val >= n_test:
            n_val -= 1
        else:
            n_test -= 1
    names = ["test"] * n_test + ["val"] * n_val + ["train"] * (n - n_test - n_val)
    return {wells[i]: names[j] for j, i in enumerate(order)}


def build_dataset(
    plate_path: str | os.PathLike,
    manifest: pd.DataFrame,
    targets: pd.DataFrame,
    config: DatasetConfig,
    out_path: str | os.PathLike,
    progress: bool = True,
) -> pd.DataFrame:
    """Cut the pairs of every kept target tile and write them as a chunked Zarr group.

    Writes ``out_path`` (see :mod:`platefocus.io.pairs`: arrays ``input`` (N, C, P, P)
    and ``target`` (N, 1, P, P), float32) atomically.

    Returns
    -------
    DataFrame
        One row per pair, row ``i`` describing array index ``i``: ``split, plate, well,
        site, region, z_target, z_input, dz, side, y0, x0, norm_lo, norm_hi``.
    """
    kept = targets[targets["keep"] & (targets["channel"] == config.channel)]
    if kept.empty:
        raise InputError("targets", _nothing_kept(targets, config.channel))
    split_of = split_wells(kept["well"].unique(), config.split_fractions, config.seed)
    rows: list[dict] = []
    with atomic_path(out_path) as tmp:
        writer = PairWriter(tmp, config.in_channels, config.patch_size)
        refs = [r for r in list_fields(manifest) if config.channel in r.channels]
        for ref in progress_bar(refs, desc="cutting pairs", disable=not progress):
            tiles_here = kept[(kept["well"] == ref.well) & (kept["site"] == ref.site)]
            if tiles_here.empty:
                continue
            stack = np.asarray(field_array(plate_path, ref)[ref.channels.index(config.channel)])
            inputs, outputs, field_rows = field_pairs(
                stack, ref, tiles_here, config, split_of[ref.well]
            )
            if inputs:
                writer.append(np.stack(inputs), np.stack(outputs))
                rows += field_rows
        writer.describe(
            {
                "offsets": list(config.offsets),
                "patch_size": config.patch_size,
                "percentiles": list(config.percentiles),
                "context_planes": config.context_planes,
                "channel": config.channel,
                "normalisation": "input plane percentiles, applied to input and target",
                "plates": sorted(str(p) for p in manifest["plate"].unique()),
            }
        )
        if not rows:
            raise ValueError(
                f"no pair fits: tiles smaller than patch_size={config.patch_size} or offsets "
                f"{config.offsets} outside every stack"
            )
    table = pd.DataFrame(rows)
    log.info("%d pairs: %s", len(table), table["split"].value_counts().to_dict())
    return table


def field_pairs(
    stack: np.ndarray,
    ref: FieldRef,
    tiles_here: pd.DataFrame,
    config: DatasetConfig,
    split: str,
) -> tuple[list[np.ndarray], list[np.ndarray], list[dict]]:
    """The pairs of one field's kept tiles: inputs (C, P, P), targets (1, P, P), rows.

    ``stack`` is the field's (Z, Y, X) channel; ``tiles_here`` its kept rows of the
    targets table. Both input and target are normalised with the input plane's range.
    """
    p, c = config.patch_size, config.context_planes
    tiles = {t.name: t for t in tile_grid(stack.shape[1], stack.shape[2], config.grid)}
    inputs, outputs, rows, ranges = [], [], [], {}
    for tile_row in tiles_here.itertuples():
        tile = tiles[tile_row.region]
        k = ref.z_indices.index(int(tile_row.best_z))
        for dz in config.offsets:
            side = "above" if dz > 0 else "below"
            if split != "test" and not config.trains_on(dz):
                continue
            planes = [k + dz + j for j in range(-c, c + 1)]
            if min(planes) < 0 or max(planes) >= len(stack):
                continue
            if k + dz not in ranges:
                ranges[k + dz] = percentile_range(stack[k + dz], config.percentiles)
            lo, hi = ranges[k + dz]
            for y0 in range(tile.y.start, tile.y.stop - p + 1, config.stride):
                for x0 in range(tile.x.start, tile.x.stop - p + 1, config.stride):
                    win = (slice(y0, y0 + p), slice(x0, x0 + p))
                    inputs.append(apply_range(stack[planes][:, win[0], win[1]], lo, hi))
                    outputs.append(apply_range(stack[k][None, win[0], win[1]], lo, hi))
                    rows.append(
                        dict(
                            split=split,
                            plate=ref.plate,
                            well=ref.well,
                            site=ref.site,
                            region=tile_row.region,
                            z_target=ref.z_indices[k],
                            z_input=ref.z_indices[k + dz],
                            dz=dz,
                            side=side,
                            y0=y0,
                            x0=x0,
                            norm_lo=lo,
                            norm_hi=hi,
                        )
                    )
    return inputs, outputs, rows


def _nothing_kept(targets: pd.DataFrame, channel: int) -> str:
    """Why no tile of ``channel`` became a target: the commonest reasons, and what to change."""
    here = targets[targets["channel"] == channel]
    if here.empty:
        return f"no tile of channel {channel} was judged (focus.target_channel)"
    reasons = (
        here["reason"]
        .astype(str)
        .str.split("; ")
        .explode()
        .str.extract(r"^([^\d(]*)", expand=False)
        .str.strip()  # without the numbers
        .value_counts()
        .head(3)
    )
    said = ", ".join(f"{r} ({n} tiles)" for r, n in reasons.items())
    return (
        f"no target tile was kept, so there is nothing to train on: 0 of {len(here)} tiles "
        f"of channel {channel}; commonest reasons: {said}. Lower targets.min_objects or "
        "targets.min_fraction_in_focus, use a coarser focus.grid (tiles too small), or "
        "check the focus table."
    )
