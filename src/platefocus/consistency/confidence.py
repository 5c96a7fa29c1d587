"""How far each restored object can be trusted: a confidence in [0, 1] and a verdict.

Restoration fails on real planes in three ways that counts do not show: it splits one
blurred nucleus into several small spots (more objects than nuclei), it shrinks or
swells nuclei, and it invents objects over out-of-focus light. The observation says
little below the blur's scale, so each failure leaves a different trace:

* **support** (:func:`platefocus.consistency.hallucination.object_support`): whether the
  observation holds the object's re-blurred light once everything else restored is
  accounted for; an invention over a neighbour's halo adds light the observation does not
  have (support near 0);
* **size**: the object's equivalent diameter against the field's expected in-focus
  diameter (``size_ratio``); a spot of a split nucleus or a swollen blob is far from 1;
* **siblings**: how many restored objects fall inside the one blob of the observed plane
  that holds this object's centre; a nucleus split into spots gives several undersized
  siblings, touching nuclei several full-sized ones.

``confidence = clip(support, 0, 1) * exp(-ln(size_ratio)^2 / (2 * 0.25^2)) * s``, with
``s = SPLIT_FACTOR`` for an undersized object with siblings (a split) and 1 otherwise;
``reliable`` when ``confidence >= min_confidence``. The width 0.25 (in log diameter)
accepts nuclei 0.78-1.28 times the expected diameter at one standard deviation, about the
spread of nuclear sizes within a field. How often a confident object is a real one is
measured, not assumed: :func:`reliability_table` on held-out synthetic planes with truth.

A plane further from focus than the held-out planes restored well keeps its objects, but
none of them is reliable there (:mod:`platefocus.compare.reliability`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage

#: Log-diameter spread accepted as one nucleus (see the module doc).
SIZE_SIGMA = 0.25
#: Confidence factor of an undersized object that shares its observed blob (a split).
SPLIT_FACTOR = 0.3
#: Below this size ratio, an object with siblings counts as a piece of a split nucleus.
SPLIT_SIZE_RATIO = 0.75


def object_confidence(
    restored_labels: np.ndarray,
    observed_labels: np.ndarray,
    expected_diameter_px: float,
    support: pd.Series | None = None,
    min_confidence: float = 0.5,
) -> pd.DataFrame:
    """Confidence of every object of ``restored_labels`` (Y, X).

    Parameters
    ----------
    restored_labels, observed_labels
        Segmentations of the restored and of the observed (defocused) plane, same settings.
    expected_diameter_px
        The field's in-focus nuclear diameter, pixels (the in-focus plane's median, or
        the segmentation's estimate).
    support
        ``label -> support`` (NaN or missing: no operator for this plane, support is not
        part of the confidence).

    Returns
    -------
    DataFrame
        ``label, size_ratio, siblings, split, confidence, reliable``.
    """
    count = int(restored_labels.max())
    columns = ["label", "size_ratio", "siblings", "split", "confidence", "reliable"]
    if count == 0:
        return pd.DataFrame(columns=columns)
    index = np.arange(1, count + 1)
    area = ndimage.sum_labels(np.ones(restored_labels.shape), restored_labels, index)
    diameter = np.sqrt(4 * area / np.pi)
    size_ratio = diameter / max(float(expected_diameter_px), 1e-6)
    centres = np.array(ndimage.center_of_mass(restored_labels > 0, restored_labels, index))
    rows = np.clip(np.rint(centres[:, 0]).astype(int), 0, restored_labels.shape[0] - 1)
    cols = np.clip(np.rint(centres[:, 1]).astype(int), 0, restored_labels.shape[1] - 1)
    blob = observed_labels[rows, cols]
    per_blob = np.bincount(blob, minlength=int(observed_labels.max()) + 1)
    siblings = np.where(blob > 0, per_blob[blob] - 1, 0)
    split = (siblings > 0) & (size_ratio < SPLIT_SIZE_RATIO)
    held = np.ones(count)
    if support is not None:
        values = pd.Series(support).reindex(index).to_numpy(dtype=float)
        held = np.where(np.isnan(values), 1.0, np.clip(values, 0.0, 1.0))
    size_term = np.exp(-(np.log(np.maximum(size_ratio, 1e-6)) ** 2) / (2 * SIZE_SIGMA**2))
    confidence = held * size_term * np.where(split, SPLIT_FACTOR, 1.0)
    return pd.DataFrame(
        dict(
            label=index,
            size_ratio=size_ratio,
            siblings=siblings.astype(int),
            split=split,
            confidence=confidence,
            reliable=confidence >= min_confidence,
        )
    )
