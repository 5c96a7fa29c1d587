"""Training-target selection: keep tiles whose best plane has most of its objects in focus.

After the approach that splits each image into quadrants and keeps the sharpest: at each
tile's best plane the nuclei are segmented; every object gets its own focus curve (Sobel
gradient energy summed over the object grown by a few pixels, per plane), and it counts as
in focus when its sharpness at the tile's best plane is at least ``min_relative_sharpness``
of its own peak. A
tile is kept when it has enough objects, a large enough fraction of them in focus, and
none of the rejecting QC flags of its focus curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage

from platefocus.focus.metrics import Region, gradient_energy
from platefocus.segment.nuclei import SegmentationConfig, object_centroids
from platefocus.segment.planes import segment_planes


@dataclass(frozen=True)
class TargetConfig:
    """Thresholds of target selection.

    Attributes
    ----------
    min_objects : int
        Fewest objects (centroid inside the tile) for a tile to be kept.
    min_fraction_in_focus : float
        Fewest objects in focus at the tile's best plane, as a fraction.
    min_relative_sharpness : float
        An object is in focus at the tile's best plane when its sharpness there is at least
        this fraction of its own peak sharpness over the stack.
    reject_flags : tuple of str
        Focus-curve QC flags that drop a tile (see ``platefocus.focus.bestplane.FLAGS``).
    grow_px : int
        Pixels by which object masks are grown to catch their blurred edges.
    """

    min_objects: int = 3
    min_fraction_in_focus: float = 0.75
    min_relative_sharpness: float = 0.7
    reject_flags: tuple[str, ...] = (
        "single_plane",
        "peak_at_end",
        "no_clear_peak",
        "not_unimodal",
        "saturated",
        "empty",
    )
    grow_px: int = 3

    @classmethod
    def from_config(cls, targets: dict) -> TargetConfig:
        """The workflow's ``targets`` section."""
        return cls(**{**targets, "reject_flags": tuple(targets["reject_flags"])})


def object_focus_curves(energy: np.ndarray, labels: np.ndarray, grow_px: int) -> np.ndarray:
    """Focus curve of every labelled object: gradient energy summed over its grown mask.

    Parameters
    ----------
    energy : (Z, Y, X) float
        Per-plane gradient energy (:func:`gradient_energy`).
    labels : (Y, X) int
        Objects 1..N.

    Returns
    -------
    curves : (Z, N) float64
    """
    n = int(labels.max())
    if n == 0:
        return np.zeros((len(energy), 0))
    grown = labels
    if grow_px > 0:
        grown = np.where(labels > 0, labels, ndimage.grey_dilation(labels, size=2 * grow_px + 1))
    flat = grown.ravel()
    return np.stack([np.bincount(flat, weights=e.ravel(), minlength=n + 1)[1:] for e in energy])


def select_field_targets(
    stack: np.ndarray,
    tiles: Sequence[Region],
    tile_best: pd.DataFrame,
    segmentation: SegmentationConfig,
    config: TargetConfig,
) -> pd.DataFrame:
    """Judge every tile of one field and channel.

    Parameters
    ----------
    stack : (Z, Y, X) array
        The channel's Z-stack, planes in acquisition order.
    tiles : regions
        The tile grid used for focus scoring.
    tile_best : DataFrame
        Best-plane rows of this field and channel (``region``, ``best_z``, ``qc_flags``) with
        ``plane`` (0-based position of ``best_z`` in ``stack``).

    Returns
    -------
    DataFrame
        One row per tile: ``region, n_objects, n_in_focus, fraction_in_focus,
        median_relative_sharpness, keep, reason``.
    """
    energy = gradient_energy(stack)
    labels_at: dict[int, np.ndarray] = {}
    rows = []
    by_region = tile_best.set_index("region")
    for tile in tiles:
        if tile.name not in by_region.index:
            continue
        best = by_region.loc[tile.name]
        k = int(best["plane"])
        if k not in labels_at:
            labels_at[k] = segment_planes([stack[k]], segmentation)[0]
        labels = labels_at[k]
        cy, cx = object_centroids(labels).T if labels.max() else (np.zeros(0), np.zeros(0))
        inside = (
            (cy >= tile.y.start) & (cy < tile.y.stop) & (cx >= tile.x.start) & (cx < tile.x.stop)
        )
        curves = object_focus_curves(energy, labels, config.grow_px)[:, inside]
        relative = curves[k] / np.maximum(curves.max(axis=0), 1e-300)
        n = int(inside.sum())
        n_focus = int((relative >= config.min_relative_sharpness).sum())
        fraction = n_focus / n if n else 0.0
        reasons = []
        if n < config.min_objects:
            reasons.append(f"too few objects ({n} < {config.min_objects})")
        elif fraction < config.min_fraction_in_focus:
            reasons.append(f"fraction in focus {fraction:.2f} < {config.min_fraction_in_focus:.2f}")
        flags = [f for f in str(best["qc_flags"] or "").split(";") if f]
        reasons += [f"flag {f}" for f in flags if f in config.reject_flags]
        rows.append(
            dict(
                region=tile.name,
                n_objects=n,
                n_in_focus=n_focus,
                fraction_in_focus=fraction,
                median_relative_sharpness=float(np.median(relative)) if n else 0.0,
                keep=not reasons,
                reason="; ".join(reasons) if reasons else "kept",
            )
        )
    return pd.DataFrame(rows)
