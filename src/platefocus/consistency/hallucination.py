"""Does the observation support what restoration made? Residual maps and object flags.

A restored plane ``x`` is consistent with the observed defocused plane ``y`` when
re-blurring it reproduces ``y`` within the noise: ``r = (A x - y) / sigma`` (the
hallucination map, in units of the observation's noise ``sigma``) has unit spread. A
field's consistency score is the root mean square of ``r`` (about 1: consistent; larger:
restoration added or removed light the observation does not show).

Per object of the restored segmentation, the question is whether the observation holds
its light. The object's own contribution to the re-blurred plane is
``p = A((x - b) 1_object)`` (``b``: the plane's background); regressing the observation,
with everything but the object explained by the restoration, on ``p`` gives the object's
**support**

    s = <y - A x + p, p> / <p, p>  =  1 - <r sigma, p> / <p, p>

about 1 for an object that is really there and about 0 for one the network invented (its
blurred light is missing from ``y``). Its noise is ``sigma / ||p||``. An object is
flagged when ``s`` is below ``min_support`` by more than ``z`` noise units. Only each
object's bounding box (plus the kernel radius) is convolved, so the cost grows with the
objects' area, not their number times the plane.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.signal import fftconvolve

from platefocus.consistency.projection import blur


def noise_sigma(observed: np.ndarray) -> float:
    """Noise standard deviation of a plane, intensity units: Immerkaer's estimator (CVIU
    64 (1996) 300), the mean absolute response to the Laplacian difference mask that
    cancels planar and smooth structure. ``skimage.restoration.estimate_sigma`` would need
    PyWavelets, a dependency for one number; this is five lines. An average over the
    plane: with photon noise it is the noise at the typical intensity."""
    y = np.asarray(observed, np.float64)
    mask = np.array([[1.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 1.0]])
    response = ndimage.convolve(y, mask, mode="reflect")[1:-1, 1:-1]
    return float(np.sqrt(np.pi / 2) * np.abs(response).mean() / 6.0)


def residual_map(
    restored: np.ndarray, observed: np.ndarray, kernel: np.ndarray, sigma: float
) -> np.ndarray:
    """``(A x - y) / sigma``, (Y, X): the hallucination map in noise units."""
    return (blur(restored, kernel) - np.asarray(observed, np.float64)) / sigma


def consistency_score(residual: np.ndarray) -> float:
    """Root mean square of a residual map in noise units (about 1 when consistent)."""
    return float(np.sqrt(np.mean(np.square(residual))))


def object_support(
    labels: np.ndarray,
    restored: np.ndarray,
    residual: np.ndarray,
    kernel: np.ndarray,
    sigma: float,
    background: float | None = None,
    min_support: float = 0.5,
    z: float = 3.0,
) -> pd.DataFrame:
    """Support of each object of ``labels`` (restored segmentation) in the observation.

    Returns
    -------
    DataFrame
        ``label, area_px, support, support_noise, flagged``: ``flagged`` when
        ``support + z * support_noise < min_support``.
    """
    x = np.asarray(restored, np.float64)
    b = float(np.median(x[labels == 0])) if background is None else background
    r = kernel.shape[0] // 2
    rows = []
    for label, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        y0, y1 = max(box[0].start - r, 0), min(box[0].stop + r, x.shape[0])
        x0, x1 = max(box[1].start - r, 0), min(box[1].stop + r, x.shape[1])
        inside = labels[y0:y1, x0:x1] == label
        light = np.where(inside, np.clip(x[y0:y1, x0:x1] - b, 0, None), 0.0)
        predicted = fftconvolve(light, kernel, mode="same")
        energy = float(np.sum(predicted**2))
        if energy <= 0:
            rows.append((label, int(inside.sum()), 0.0, np.inf, False))
            continue
        support = 1.0 - float(np.sum(residual[y0:y1, x0:x1] * sigma * predicted)) / energy
        noise = sigma / np.sqrt(energy)
        rows.append((label, int(inside.sum()), support, noise, support + z * noise < min_support))
    return pd.DataFrame(
        rows, columns=["label", "area_px", "support", "support_noise", "flagged"]
    ).astype({"flagged": bool})
