"""Consistency of one restored plane with its observation: the numbers the segmentation
comparison records per plane and per object (:mod:`platefocus.compare.segmentation`).

The observed (defocused) plane ``y`` and the restored plane ``x`` are in the same raw
intensity units; ``kernel`` is the defocus operator of the plane's offset
(:mod:`platefocus.consistency.stack`). With true labels (a synthetic plate), each
restored object is also marked real (matched one to one to a true object at IoU > 0.5)
or not, so the flag's precision can be measured.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from platefocus.consistency.hallucination import (
    consistency_score,
    noise_sigma,
    object_support,
    residual_map,
)
from platefocus.segment.matching import matched_predictions


def plane_consistency(
    observed: np.ndarray,
    restored: np.ndarray,
    restored_labels: np.ndarray,
    kernel: np.ndarray,
    truth_labels: np.ndarray | None = None,
) -> tuple[dict, pd.DataFrame, np.ndarray]:
    """Per-plane numbers, per-object support and the residual map of one plane.

    Returns
    -------
    plane : dict
        ``noise_sigma`` (intensity units), ``consistency_score`` (RMS residual in noise
        units), ``count_flagged``, ``count_restored_supported`` (objects not flagged);
        with truth also ``flagged_false`` (flagged objects with no true match) and
        ``unflagged_true`` (unflagged objects with a true match).
    objects : DataFrame
        :func:`~platefocus.consistency.hallucination.object_support`'s columns, plus
        ``real`` (bool, with truth only).
    residual : (Y, X) float64
        ``(A x - y) / sigma``.
    """
    sigma = max(noise_sigma(observed), 1e-6)
    residual = residual_map(restored, observed, kernel, sigma)
    objects = object_support(restored_labels, restored, residual, kernel, sigma)
    plane = dict(
        noise_sigma=sigma,
        consistency_score=consistency_score(residual),
        count_flagged=int(objects["flagged"].sum()),
        count_restored_supported=int((~objects["flagged"]).sum()),
    )
    if truth_labels is not None:
        real = matched_predictions(truth_labels, restored_labels, objects["label"].to_numpy())
        objects = objects.assign(real=real.astype(bool))
        plane.update(
            flagged_false=int((objects["flagged"] & ~objects["real"]).sum()),
            unflagged_true=int((~objects["flagged"] & objects["real"]).sum()),
        )
    return plane, objects, residual
