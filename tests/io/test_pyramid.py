"""The viewer pyramid: equal to scikit-image's block means, as ome_zarr's local_mean."""

import numpy as np
import pytest
from skimage.transform import downscale_local_mean

from platefocus.io.pyramid import downscale_2x, pyramid


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32])
@pytest.mark.parametrize("shape", [(2, 3, 8, 10), (1, 2, 9, 7), (5, 5)])
def test_downscale_equals_skimage_local_mean(dtype, shape):
    rng = np.random.default_rng(1)
    high = {np.uint8: 255, np.uint16: 65535, np.int16: 30000}.get(dtype, 1.0)
    image = (rng.random(shape) * high).astype(dtype)
    if dtype == np.int16:
        image -= 15000  # negative values: truncation toward zero, as the cast does
    factors = (1,) * (len(shape) - 2) + (2, 2)
    expected = downscale_local_mean(image, factors).astype(dtype)
    got = downscale_2x(image)
    assert got.dtype == dtype and got.shape == expected.shape
    if dtype == np.float32:
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    else:
        np.testing.assert_array_equal(got, expected)


def test_pyramid_levels_halve_the_plane():
    image = np.arange(2 * 40 * 52, dtype=np.uint16).reshape(1, 2, 40, 52)
    levels = pyramid(image, 2)
    assert [lv.shape for lv in levels] == [(1, 2, 40, 52), (1, 2, 20, 26), (1, 2, 10, 13)]
    assert levels[0] is image or np.array_equal(levels[0], image)


def test_pyramid_on_an_executor_equals_in_this_thread():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(2)
    image = rng.integers(0, 65535, size=(2, 5, 41, 38), dtype=np.uint16)
    with ThreadPoolExecutor(3) as pool:
        on_pool = pyramid(image, 2, pool)
    for got, expected in zip(on_pool, pyramid(image, 2), strict=True):
        np.testing.assert_array_equal(got, expected)
