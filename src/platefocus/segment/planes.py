"""The one entry point that segments planes, by the configured method
(``segmentation.method``): the classic steps (:mod:`platefocus.segment.nuclei`) or a
Cellpose model (:mod:`platefocus.segment.cellpose`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from platefocus.segment.nuclei import SegmentationConfig, identify_primary_objects, with_diameter


def segment_planes(planes: Sequence[np.ndarray], config: SegmentationConfig) -> list[np.ndarray]:
    """Label images (``(y, x)``, 0 = background) of ``planes``, all segmented with the
    same settings. Fix the diameter range first (:func:`with_diameter` on the field's
    reference plane) to share it between planes; left as ``auto``, the classic path
    estimates it per plane and Cellpose from the first plane. Cellpose takes the planes
    in one call."""
    if config.method == "classic":
        return [identify_primary_objects(plane, config) for plane in planes]
    from platefocus.segment.cellpose import cellpose_labels, resolve_model

    if not len(planes):
        return []
    diameter = config.diameter_px or with_diameter(config, planes[0]).diameter_px
    return cellpose_labels(
        planes, diameter, resolve_model(config.cellpose_model), remove_border=config.remove_border
    )
