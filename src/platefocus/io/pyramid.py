"""The viewer pyramid of a field: 2x2 block means in ``y, x``, level after level.

Equal to :func:`skimage.transform.downscale_local_mean` with factors ``(..., 2, 2)``
followed by a cast to the input dtype (what ``ome_zarr``'s ``local_mean`` method does):
odd sizes are padded with zeros to the next even size, integer means are truncated. It
is computed here with four strided additions instead (one pass, no float64 copy): 0.04 s
against 0.20 s for a BBBC006 field of 2 x 34 planes (tests/io/test_pyramid.py holds the
two equal).
"""

from __future__ import annotations

import numpy as np


def downscale_2x(image: np.ndarray) -> np.ndarray:
    """2x2 block means over the last two axes of ``(..., y, x)``; shape
    ``(..., ceil(y / 2), ceil(x / 2))``, the input's dtype."""
    image = np.asarray(image)
    y, x = image.shape[-2:]
    if y % 2 or x % 2:
        padding = [(0, 0)] * (image.ndim - 2) + [(0, y % 2), (0, x % 2)]
        image = np.pad(image, padding)
    if image.dtype.kind in "ui":
        small = image.dtype.itemsize <= 2  # four 16-bit values fit in 32 bits
        if image.dtype.kind == "u":
            wide = np.uint32 if small else np.uint64
        else:
            wide = np.int32 if small else np.int64
    else:
        wide = np.float64
    total = np.add(image[..., 0::2, 0::2], image[..., 1::2, 0::2], dtype=wide)
    np.add(total, image[..., 0::2, 1::2], out=total, dtype=wide)
    np.add(total, image[..., 1::2, 1::2], out=total, dtype=wide)
    if image.dtype.kind == "u":
        np.right_shift(total, 2, out=total)  # the truncated mean
        return total.astype(image.dtype)
    if image.dtype.kind == "i":  # truncation toward zero, as the float mean cast to int
        return np.trunc(total / 4).astype(image.dtype)
    return (total / 4).astype(image.dtype)


def pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    """``[image, 2x smaller, 4x smaller, ...]``: ``levels`` levels below the image."""
    out = [np.asarray(image)]
    for _ in range(levels):
        out.append(downscale_2x(out[-1]))
    return out
