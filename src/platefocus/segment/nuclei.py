"""Nuclei segmentation in the manner of CellProfiler's IdentifyPrimaryObjects.

Steps: Gaussian smoothing; a global threshold (minimum cross-entropy / Li by default, or
Otsu) times a correction factor; hole filling; declumping by a seeded watershed, seeds
from intensity or shape (distance transform) maxima suppressed within ``min_diameter/2``;
objects outside the diameter range and objects touching the border removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage import filters, measure, segmentation
from skimage.feature import peak_local_max

THRESHOLDS = ("li", "otsu")
DECLUMP = ("intensity", "shape", "none")


@dataclass(frozen=True)
class SegmentationConfig:
    """Parameters of nuclei segmentation; identical for every image set compared.

    Attributes
    ----------
    diameter_px : (int, int)
        Typical object diameter range in pixels; smaller and larger objects are removed.
    smoothing_sigma_px : float
        Gaussian smoothing before thresholding, pixels (0 = none).
    threshold : str
        ``"li"`` (minimum cross-entropy) or ``"otsu"``.
    threshold_correction : float
        Factor applied to the automatic threshold.
    declump : str
        ``"intensity"``, ``"shape"`` or ``"none"``.
    remove_border : bool
        Drop objects touching the image border.
    fill_holes : bool
        Fill holes inside objects.
    """

    diameter_px: tuple[int, int] = (10, 40)
    smoothing_sigma_px: float = 1.0
    threshold: str = "li"
    threshold_correction: float = 1.0
    declump: str = "intensity"
    remove_border: bool = True
    fill_holes: bool = True

    def __post_init__(self) -> None:
        lo, hi = self.diameter_px
        if not 0 < lo <= hi:
            raise ValueError(f"diameter_px must be 0 < min <= max, got {self.diameter_px}")
        if self.threshold not in THRESHOLDS:
            raise ValueError(f"threshold must be one of {THRESHOLDS}, got {self.threshold!r}")
        if self.declump not in DECLUMP:
            raise ValueError(f"declump must be one of {DECLUMP}, got {self.declump!r}")

    @classmethod
    def from_config(cls, segmentation: dict) -> SegmentationConfig:
        """The workflow's ``segmentation`` section."""
        return cls(**{**segmentation, "diameter_px": tuple(segmentation["diameter_px"])})


def identify_primary_objects(image: np.ndarray, config: SegmentationConfig) -> np.ndarray:
    """Label nuclei in a 2D image.

    Parameters
    ----------
    image : (Y, X) array
        Intensities (any real dtype).

    Returns
    -------
    labels : (Y, X) int32
        0 for background, 1..N for objects, numbered in raster order.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"image must be 2D, got shape {image.shape}")
    if not np.isfinite(image).all():
        raise ValueError("image has NaN or infinite pixels")
    if image.max() == image.min():
        return np.zeros(image.shape, dtype=np.int32)
    smooth = image
    if config.smoothing_sigma_px > 0:
        smooth = ndimage.gaussian_filter(image, config.smoothing_sigma_px)
    method = filters.threshold_li if config.threshold == "li" else filters.threshold_otsu
    mask = smooth > method(smooth) * config.threshold_correction
    if config.fill_holes:
        mask = ndimage.binary_fill_holes(mask)
    lo, hi = config.diameter_px
    if config.declump == "none":
        labels = measure.label(mask)
    else:
        # Seeds as CellProfiler picks them: smoothed at min_diameter / 3.5 and maxima
        # closer than min_diameter / 1.5 suppressed, so texture inside a nucleus does
        # not split it.
        if config.declump == "intensity":
            landscape = ndimage.gaussian_filter(image, lo / 3.5)
        else:
            landscape = ndimage.distance_transform_edt(mask)
        peaks = peak_local_max(
            landscape,
            min_distance=max(1, int(lo / 1.5)),
            labels=measure.label(mask),
            exclude_border=False,
        )
        markers = np.zeros(image.shape, dtype=np.int32)
        markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
        labels = segmentation.watershed(-landscape, markers, mask=mask)
    areas = np.bincount(labels.ravel())
    min_area, max_area = np.pi * (lo / 2) ** 2, np.pi * (hi / 2) ** 2
    bad = (areas < min_area) | (areas > max_area)
    bad[0] = False
    labels[bad[labels]] = 0
    if config.remove_border:
        labels = segmentation.clear_border(labels)
    labels, _, _ = segmentation.relabel_sequential(labels)
    return labels.astype(np.int32)


def object_centroids(labels: np.ndarray) -> np.ndarray:
    """Centroids of labels 1..N as an (N, 2) array of (y, x) pixels."""
    n = int(labels.max())
    if n == 0:
        return np.zeros((0, 2))
    return np.array(ndimage.center_of_mass(np.ones_like(labels), labels, range(1, n + 1)))
