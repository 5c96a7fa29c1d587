"""A field's focus map: edge strength and locally best plane on a fine grid of regions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from platefocus.focus.metrics import contrast, score_stack


def field_focus_map(
    stack: np.ndarray,
    plane: int,
    z_indices: Sequence[int],
    min_contrast: float,
    grid: tuple[int, int] = (8, 8),
) -> tuple[np.ndarray, np.ndarray]:
    """Tenengrad of each region at ``plane`` and each region's own best plane.

    Parameters
    ----------
    stack : (Z, Y, X) array
        One channel of a field.
    plane : int
        Position in the stack (0-based) at which edge strength is shown.
    z_indices : sequence of int
        Plane ids of the stack's positions.
    min_contrast : float
        Regions whose largest ``std / mean`` over z is below this hold no objects: their
        best plane is NaN.
    grid : (rows, columns)

    Returns
    -------
    edges : (rows, columns) float
        Tenengrad at ``plane``.
    local_best : (rows, columns) float
        Plane id where each region's Tenengrad peaks (NaN for empty regions).
    """
    scores = score_stack(stack, grid)
    edges = scores["tenengrad"][plane, 1:].reshape(grid)
    local = np.asarray(z_indices, float)[np.argmax(scores["tenengrad"][:, 1:], axis=0)]
    local[contrast(scores["std"], scores["mean"]).max(axis=0)[1:] < min_contrast] = np.nan
    return edges, local.reshape(grid)
