"""Nuclei segmentation in the manner of CellProfiler's IdentifyPrimaryObjects.

Steps: optional background subtraction (a morphological opening wider than the largest
object); Gaussian smoothing; a threshold (minimum cross-entropy / Li by default, or Otsu),
global or adaptive (per window), times a correction factor; hole filling; declumping by a
seeded watershed, seeds from intensity or shape (distance transform) maxima suppressed
within ``min_diameter/2``; objects outside the diameter range and objects touching the
border removed. The diameter range is given, or estimated from the image.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage
from skimage import filters, measure, segmentation
from skimage.feature import peak_local_max

THRESHOLDS = ("li", "otsu")
SCOPES = ("global", "adaptive")
BACKGROUNDS = ("none", "opening")
DECLUMP = ("intensity", "shape", "none")
#: How nuclei are segmented: these steps, or a Cellpose model (:mod:`platefocus.segment.cellpose`).
METHODS = ("classic", "cellpose")
#: An adaptive threshold stays within these factors of the global one.
ADAPTIVE_BOUNDS = (0.1, 1.5)
#: A window takes its own threshold only when it separates two classes this well
#: (between-class over total variance; a window of background noise alone scores about
#: 0.64), so that empty windows are not thresholded on noise.
MIN_SEPARATION = 0.8
#: Estimated diameters span this factor below and above the typical object.
DIAMETER_SPREAD = 2.0
#: Fewest objects an estimate of the diameter rests on; with fewer the estimate is unsure
#: and ``fallback_diameter_px`` is used instead.
MIN_OBJECTS_FOR_ESTIMATE = 5
#: The Otsu threshold of a plane must stand this many noise standard deviations above its
#: background (5th percentile) for its objects to be measured: background noise alone
#: scores about 0.3, real nuclei planes 7 (dense confocal cells3d) to 100 (BBBC006 near
#: focus), a BBBC006 plane 32 um from focus 18-42.
MIN_CONTRAST_FOR_ESTIMATE = 3.0


@dataclass(frozen=True)
class SegmentationConfig:
    """Parameters of nuclei segmentation; identical for every image set compared.

    Attributes
    ----------
    diameter_px : (int, int) or None
        Typical object diameter range in pixels; smaller and larger objects are removed.
        None (the default, ``auto`` in the workflow): estimated from the image
        (:func:`estimate_diameter`); for comparisons it is estimated once per field and
        then shared (:func:`with_diameter`).
    fallback_diameter_px : (int, int)
        The range used when the estimate is unsure (fewer than
        ``MIN_OBJECTS_FOR_ESTIMATE`` objects to measure).
    smoothing_sigma_px : float
        Gaussian smoothing before thresholding, pixels (0 = none).
    background : str
        ``"none"``, or ``"opening"``: subtract a morphological opening wider than the
        largest object (a top-hat; CellProfiler's CorrectIllumination idea), which
        removes uneven illumination and out-of-focus haze.
    threshold : str
        ``"li"`` (minimum cross-entropy) or ``"otsu"``.
    threshold_scope : str
        ``"global"``: one threshold per image; ``"adaptive"``: the method applied in
        windows of ``adaptive_window_px`` (default four largest diameters) that hold two
        classes (``MIN_SEPARATION``), bounded by ``ADAPTIVE_BOUNDS`` times the global
        threshold and interpolated between windows.
    threshold_correction : float
        Factor applied to the automatic threshold.
    declump : str
        ``"intensity"``, ``"shape"`` or ``"none"``.
    remove_border : bool
        Drop objects touching the image border.
    fill_holes : bool
        Fill holes inside objects.
    method : str
        ``"classic"`` (these steps) or ``"cellpose"`` (a Cellpose model; the diameter
        range, border removal and the shared per-field diameter apply to its objects too).
    cellpose_model : str or None
        With ``method="cellpose"``: a model file, or a model's name in the user's Cellpose
        model folder (:func:`platefocus.segment.cellpose.resolve_model`).
    """

    diameter_px: tuple[int, int] | None = None
    fallback_diameter_px: tuple[int, int] = (15, 60)
    smoothing_sigma_px: float = 1.0
    background: str = "none"
    threshold: str = "li"
    threshold_scope: str = "global"
    adaptive_window_px: int | None = None
    threshold_correction: float = 1.0
    declump: str = "intensity"
    remove_border: bool = True
    fill_holes: bool = True
    method: str = "classic"
    cellpose_model: str | None = None

    def __post_init__(self) -> None:
        for name in ("diameter_px", "fallback_diameter_px"):
            if getattr(self, name) is not None:
                lo, hi = getattr(self, name)
                if not 0 < lo <= hi:
                    raise ValueError(f"{name} must be 0 < min <= max, got {getattr(self, name)}")
        for name, allowed in (
            ("threshold", THRESHOLDS),
            ("threshold_scope", SCOPES),
            ("background", BACKGROUNDS),
            ("declump", DECLUMP),
            ("method", METHODS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")

    @classmethod
    def from_config(cls, segmentation: dict) -> SegmentationConfig:
        """The workflow's ``segmentation`` section (``diameter_px: auto`` estimates it)."""
        diameter = segmentation.get("diameter_px", cls.diameter_px)
        diameter = None if diameter in (None, "auto") else tuple(diameter)
        fallback = tuple(segmentation.get("fallback_diameter_px", cls.fallback_diameter_px))
        return cls(
            **{
                **{k: v for k, v in segmentation.items() if k != "cellpose"},
                "diameter_px": diameter,
                "fallback_diameter_px": fallback,
                "cellpose_model": (segmentation.get("cellpose") or {}).get("model"),
            }
        )


def estimate_diameter(
    image: np.ndarray, smoothing_sigma_px: float = 2.0, min_objects: int = 1
) -> float:
    """Typical object diameter of a ``(y, x)`` image, pixels: the median equivalent
    diameter of the objects of an Otsu threshold (objects touching the border and specks
    of fewer than 16 pixels left out). NaN when the threshold does not stand
    ``MIN_CONTRAST_FOR_ESTIMATE`` noise standard deviations above the background (a field
    of background noise alone) or fewer than ``min_objects`` objects are left to measure.

    Checked against nuclei measured by hand (``tests/segment/test_diameter.py``): the
    real cells3d confocal stack, a BBBC022 crop and near-focus BBBC006 planes."""
    image = np.asarray(image, dtype=np.float64)
    if image.max() == image.min():
        return float("nan")
    smooth = ndimage.gaussian_filter(image, smoothing_sigma_px)
    threshold = filters.threshold_otsu(smooth)
    if (threshold - np.percentile(smooth, 5)) < MIN_CONTRAST_FOR_ESTIMATE * _noise_sd(image):
        return float("nan")
    mask = ndimage.binary_fill_holes(smooth > threshold)
    labels = segmentation.clear_border(measure.label(mask))
    areas = np.bincount(labels.ravel())[1:]
    areas = areas[areas >= 16]
    if len(areas) < max(1, min_objects):
        return float("nan")
    return float(np.median(2 * np.sqrt(areas / np.pi)))


def _noise_sd(image: np.ndarray) -> float:
    """Robust standard deviation of pixel noise: 1.4826 x MAD of the residual from a 3 x 3
    median filter."""
    residual = image - ndimage.median_filter(image, 3)
    return float(1.4826 * np.median(np.abs(residual - np.median(residual))))


def with_diameter(config: SegmentationConfig, reference: np.ndarray) -> SegmentationConfig:
    """``config`` with its diameter range fixed: as given, or estimated from ``reference``
    (``diameter / DIAMETER_SPREAD`` to ``diameter * DIAMETER_SPREAD``), or, when fewer
    than ``MIN_OBJECTS_FOR_ESTIMATE`` objects can be measured there (an empty or nearly
    empty field, a plane too blurred to threshold), ``config.fallback_diameter_px``."""
    if config.diameter_px is not None:
        return config
    d = estimate_diameter(reference, min_objects=MIN_OBJECTS_FOR_ESTIMATE)
    if not np.isfinite(d):
        return replace(config, diameter_px=tuple(config.fallback_diameter_px))
    return replace(config, diameter_px=diameter_range(d))


def diameter_range(diameter_px: float) -> tuple[int, int]:
    """The range ``auto`` segments with around a typical diameter (pixels):
    ``diameter / DIAMETER_SPREAD`` to ``diameter * DIAMETER_SPREAD``, whole pixels."""
    lo = max(2, round(diameter_px / DIAMETER_SPREAD))
    return lo, max(lo, round(diameter_px * DIAMETER_SPREAD))


def _threshold(smooth: np.ndarray, config: SegmentationConfig, window: int) -> np.ndarray:
    """The threshold, global (a scalar) or adaptive (one value per pixel)."""
    method = filters.threshold_li if config.threshold == "li" else filters.threshold_otsu
    overall = method(smooth)
    if config.threshold_scope == "global":
        return np.asarray(overall * config.threshold_correction)
    ny, nx = (max(1, round(n / window)) for n in smooth.shape)
    local = np.empty((ny, nx))
    for i, ys in enumerate(np.array_split(np.arange(smooth.shape[0]), ny)):
        for j, xs in enumerate(np.array_split(np.arange(smooth.shape[1]), nx)):
            block = smooth[ys[0] : ys[-1] + 1, xs[0] : xs[-1] + 1]
            t = method(block) if block.max() > block.min() else overall
            local[i, j] = t if _separation(block, t) >= MIN_SEPARATION else overall
    local = np.clip(local, *(f * overall for f in ADAPTIVE_BOUNDS))
    zoom = (smooth.shape[0] / ny, smooth.shape[1] / nx)
    field = ndimage.zoom(local, zoom, order=1, mode="nearest", grid_mode=True)
    return field[: smooth.shape[0], : smooth.shape[1]] * config.threshold_correction


def _separation(values: np.ndarray, threshold: float) -> float:
    """Between-class variance over total variance of ``values`` split at ``threshold``."""
    above = values > threshold
    w1 = above.mean()
    total = values.var()
    if total == 0 or w1 in (0.0, 1.0):
        return 0.0
    m0, m1 = values[~above].mean(), values[above].mean()
    return float(w1 * (1 - w1) * (m1 - m0) ** 2 / total)


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
    config = with_diameter(config, image)
    lo, hi = config.diameter_px
    if config.background == "opening":
        image = image - ndimage.grey_opening(image, size=(2 * hi + 1, 2 * hi + 1))
    smooth = image
    if config.smoothing_sigma_px > 0:
        smooth = ndimage.gaussian_filter(image, config.smoothing_sigma_px)
    mask = smooth > _threshold(smooth, config, config.adaptive_window_px or 4 * hi)
    if config.fill_holes:
        mask = ndimage.binary_fill_holes(mask)
    labels = _declump(image, mask, config)
    areas = np.bincount(labels.ravel())
    min_area, max_area = np.pi * (lo / 2) ** 2, np.pi * (hi / 2) ** 2
    bad = (areas < min_area) | (areas > max_area)
    bad[0] = False
    labels[bad[labels]] = 0
    if config.remove_border:
        labels = segmentation.clear_border(labels)
    labels, _, _ = segmentation.relabel_sequential(labels)
    return labels.astype(np.int32)


def _declump(image: np.ndarray, mask: np.ndarray, config: SegmentationConfig) -> np.ndarray:
    """Split touching objects by a seeded watershed (or just label the mask)."""
    if config.declump == "none":
        return measure.label(mask)
    lo = config.diameter_px[0]
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
    return segmentation.watershed(-landscape, markers, mask=mask)


def object_centroids(labels: np.ndarray) -> np.ndarray:
    """Centroids of labels 1..N as an (N, 2) array of (y, x) pixels."""
    n = int(labels.max())
    if n == 0:
        return np.zeros((0, 2))
    return np.array(ndimage.center_of_mass(np.ones_like(labels), labels, range(1, n + 1)))
