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
    return _summed_per_object(energy, [_grown(labels, grow_px)])[0]


def stack_focus_curves(
    stack: np.ndarray, labels: Sequence[np.ndarray], grow_px: int
) -> list[np.ndarray]:
    """:func:`object_focus_curves` of several label images over one stack.

    The gradient energy is computed one plane at a time and summed for every label image
    as it goes, never held for the whole stack: a field's float64 energy is 100 MB, and two
    workers spent their time on its page faults and memory traffic (targets stage at 0.71
    of linear at 2 workers, ``benchmarks/bench_plate.py --scaling``). Same numbers as
    :func:`object_focus_curves` on :func:`gradient_energy` of the stack.

    Parameters
    ----------
    stack : (Z, Y, X) array
    labels : sequence of (Y, X) int
        Each with objects 1..N_i.

    Returns
    -------
    list of (Z, N_i) float64, one per label image.
    """
    energy = (gradient_energy(stack[z : z + 1])[0] for z in range(len(stack)))
    return _summed_per_object(energy, [_grown(lab, grow_px) for lab in labels])


def _grown(labels: np.ndarray, grow_px: int) -> np.ndarray:
    """Labels grown by ``grow_px`` pixels into the background (objects keep their pixels)."""
    if grow_px <= 0 or not labels.max():
        return labels
    return np.where(labels > 0, labels, ndimage.grey_dilation(labels, size=2 * grow_px + 1))


def _summed_per_object(energy, grown: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Per plane of ``energy`` (iterable of (Y, X)), the sum over each object of each label
    image in ``grown``: a (Z, N_i) float64 per label image."""
    flats = [g.ravel() for g in grown]
    counts = [int(g.max()) for g in grown]
    curves: list[list[np.ndarray]] = [[] for _ in grown]
    for plane in energy:
        weights = plane.ravel()
        for flat, n, out in zip(flats, counts, curves, strict=True):
            out.append(np.bincount(flat, weights=weights, minlength=n + 1)[1:])
    return [np.stack(c) if c else np.zeros((0, n)) for c, n in zip(curves, counts, strict=True)]


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
    by_region = tile_best.set_index("region")
    judged = [tile for tile in tiles if tile.name in by_region.index]
    # each best plane segmented, and its objects' focus curves summed, once per field
    planes = sorted({int(by_region.loc[tile.name, "plane"]) for tile in judged})
    labels_at = {k: segment_planes([stack[k]], segmentation)[0] for k in planes}
    per_plane = stack_focus_curves(stack, [labels_at[k] for k in planes], config.grow_px)
    curves_at = dict(zip(planes, per_plane, strict=True))
    rows = []
    for tile in judged:
        best = by_region.loc[tile.name]
        k = int(best["plane"])
        labels = labels_at[k]
        cy, cx = object_centroids(labels).T if labels.max() else (np.zeros(0), np.zeros(0))
        inside = (
            (cy >= tile.y.start) & (cy < tile.y.stop) & (cx >= tile.x.start) & (cx < tile.x.stop)
        )
        curves = curves_at[k][:, inside]
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
