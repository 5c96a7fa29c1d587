"""What a comparison says of each segmented object: its rows, and the table they make."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage

from platefocus.focus.metrics import gradient_energy

#: What :func:`object_rows` says of each object, and its type.
OBJECT_DTYPES = dict(
    source="object", label="int64", area_px="float64", mean_intensity="float64", sharpness="float64"
)
OBJECT_COLUMNS = tuple(OBJECT_DTYPES)


def objects_table(objects: list[dict], key: dict) -> pd.DataFrame:
    """One row per object; with its key, ``dz`` and :data:`OBJECT_COLUMNS` as columns, of
    the types they have with objects, even when no plane holds an object (so that tables
    of many fields concatenate to numbers, not objects)."""
    if objects:
        return pd.DataFrame(objects)
    dtypes = {k: pd.Series([v]).dtype for k, v in key.items()} | {"dz": "float64"}
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in (dtypes | OBJECT_DTYPES).items()})


def object_rows(labels: np.ndarray, image: np.ndarray, source: str) -> list[dict]:
    """Area (px), mean intensity and sharpness (mean squared Sobel gradient) per object."""
    n = int(labels.max())
    if n == 0:
        return []
    index = np.arange(1, n + 1)
    img = image.astype(np.float64)
    grad = gradient_energy(img)
    area = ndimage.sum_labels(np.ones_like(img), labels, index)
    mean = ndimage.mean(img, labels, index)
    sharp = ndimage.mean(grad, labels, index)
    return [
        dict(
            source=source,
            label=int(i),
            area_px=float(a),
            mean_intensity=float(m),
            sharpness=float(s),
        )
        for i, a, m, s in zip(index, area, mean, sharp, strict=True)
    ]
