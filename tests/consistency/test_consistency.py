"""Physics consistency: the projection's identities, kernel recovery from a synthetic
stack, and the hallucination flag on a pasted object."""

import numpy as np
import pytest
from skimage.draw import disk

from platefocus.consistency import (
    blur,
    consistency_score,
    estimate_kernel,
    kernel_width_px,
    object_support,
    physical_kernel,
    project,
    radial_profile,
    residual_map,
)


def gaussian_kernel(sigma: float, size: int = 21) -> np.ndarray:
    c = size // 2
    yy, xx = np.indices((size, size))
    k = np.exp(-((yy - c) ** 2 + (xx - c) ** 2) / (2 * sigma**2))
    return k / k.sum()


def nuclei(shape=(96, 96), n=12, seed=0, brightness=1000.0, background=100.0):
    """A plane of bright disks on a flat background and its labels."""
    rng = np.random.default_rng(seed)
    image = np.full(shape, background)
    labels = np.zeros(shape, np.int32)
    for i in range(1, n + 1):
        centre = rng.integers(12, np.array(shape) - 12)
        rr, cc = disk(tuple(centre), 5, shape=shape)
        image[rr, cc] = background + brightness
        labels[rr, cc] = i
    return image, labels


def test_projection_keeps_a_consistent_image_and_makes_a_x_equal_y():
    """Noise-free, circular: an ``f`` with ``A f = y`` is unchanged (any regularisation),
    and for any ``f`` the exact projection gives ``A x' = y`` to numerical precision."""
    kernel = gaussian_kernel(1.5, 15)
    truth, _ = nuclei()
    y = blur(truth, kernel, pad=0)
    for lam in (0.0, 1e-3):
        np.testing.assert_allclose(project(truth, y, kernel, lam, pad=0), truth, atol=1e-9)
    f = np.random.default_rng(1).normal(300, 50, truth.shape)  # far from consistent
    projected = project(f, y, kernel, 0.0, pad=0)
    np.testing.assert_allclose(blur(projected, kernel, pad=0), y, atol=1e-6 * np.ptp(y))
    assert np.abs(blur(f, kernel, pad=0) - y).max() > 100


def test_estimated_kernel_matches_the_kernel_of_a_synthetic_stack():
    """Tiles blurred with a known kernel (plus a little noise): the estimate agrees with it
    to 10% of its peak per pixel and 5% in width."""
    rng = np.random.default_rng(0)
    kernel = gaussian_kernel(2.5, 21)
    pairs = []
    for seed in range(8):
        best, _ = nuclei((128, 128), n=20, seed=seed)
        defocused = blur(best, kernel) + rng.normal(0, 2.0, best.shape)
        pairs.append((best, defocused))
    estimate = estimate_kernel(pairs, size=21, regularisation=1e-4)
    assert np.abs(estimate - kernel).max() < 0.1 * kernel.max()
    assert kernel_width_px(estimate) == pytest.approx(kernel_width_px(kernel), rel=0.05)


def test_physical_kernel_widens_with_defocus_and_is_symmetric_about_focus():
    from platefocus.synth.psf import Optics

    optics = Optics()
    widths = [kernel_width_px(physical_kernel(optics, dz, size=41)) for dz in (2.0, 6.0, 12.0)]
    assert widths[0] < widths[1] < widths[2]
    above, below = physical_kernel(optics, 6.0, 41), physical_kernel(optics, -6.0, 41)
    np.testing.assert_allclose(above, below, atol=1e-3 * above.max())
    radius, profile = radial_profile(above)
    assert radius[0] == 0 and len(profile) == 21


def test_the_flag_fires_on_a_pasted_object_and_not_on_the_truth():
    rng = np.random.default_rng(3)
    kernel = gaussian_kernel(3.0, 25)
    truth, labels = nuclei((128, 128), n=10, seed=4)
    sigma = 5.0
    observed = blur(truth, kernel) + rng.normal(0, sigma, truth.shape)
    residual = residual_map(truth, observed, kernel, sigma)
    assert consistency_score(residual) == pytest.approx(1.0, abs=0.1)
    clean = object_support(labels, truth, residual, kernel, sigma, background=100.0)
    assert not clean["flagged"].any()
    assert clean["support"].to_numpy() == pytest.approx(1.0, abs=0.15)
    # an invented nucleus where the observation shows nothing
    invented, fake_labels = truth.copy(), labels.copy()
    free = np.argwhere(ndimage_distance(labels) > 20)
    centre = tuple(free[len(free) // 2])
    rr, cc = disk(centre, 5, shape=truth.shape)
    invented[rr, cc] = 1100.0
    fake_labels[rr, cc] = labels.max() + 1
    residual = residual_map(invented, observed, kernel, sigma)
    flags = object_support(fake_labels, invented, residual, kernel, sigma, background=100.0)
    assert flags.set_index("label").loc[labels.max() + 1, "flagged"]
    assert flags.set_index("label").loc[labels.max() + 1, "support"] < 0.2
    assert flags["flagged"].sum() == 1
    assert consistency_score(residual) > consistency_score(
        residual_map(truth, observed, kernel, sigma)
    )


def ndimage_distance(labels):
    from scipy import ndimage

    return ndimage.distance_transform_edt(labels == 0)


def test_kernels_are_saved_byte_identically_and_load_back(tmp_path):
    import time

    from platefocus.consistency.stack import load_kernels, save_kernels

    estimated = {-2: gaussian_kernel(1.0, 9), 2: gaussian_kernel(1.2, 9)}
    physical = {-2: gaussian_kernel(1.1, 9), 2: gaussian_kernel(1.1, 9)}
    save_kernels(tmp_path / "a.npz", estimated, physical, 2.0)
    time.sleep(2.1)  # the zip format's time resolution
    save_kernels(tmp_path / "b.npz", estimated, physical, 2.0)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = load_kernels(tmp_path / "a.npz", "physical")
    assert sorted(loaded) == [-2, 2]
    np.testing.assert_array_equal(loaded[2], physical[2])
    assert float(np.load(tmp_path / "a.npz")["z_step_um"]) == 2.0


def test_operator_of_a_plate_compares_estimate_and_model(tmp_path):
    """Kernels from pairs blurred with the physical kernel itself: the table reports
    agreement (width ratio near 1, profiles correlated)."""
    from platefocus.consistency.stack import defocus_operator
    from platefocus.synth.psf import Optics

    optics = Optics()
    rng = np.random.default_rng(0)
    pairs = {}
    for dz in (3, 5):
        kernel = physical_kernel(optics, dz * optics.z_step_um, 31)
        pairs[dz] = []
        for seed in range(6):
            best, _ = nuclei((128, 128), n=20, seed=seed)
            pairs[dz].append((best, blur(best, kernel) + rng.normal(0, 2.0, best.shape)))
    _, _, table = defocus_operator(pairs, optics, 31, regularisation=0.01)
    assert list(table["dz_um"]) == [6.0, 10.0] and (table["n_tiles"] == 6).all()
    assert table["width_ratio"].to_numpy() == pytest.approx(1.0, abs=0.1)
    assert (table["profile_correlation"] > 0.9).all()


def test_noise_sigma_of_a_smooth_plane_with_gaussian_noise():
    from platefocus.consistency import noise_sigma

    rng = np.random.default_rng(0)
    smooth = blur(nuclei((256, 256), n=30)[0], gaussian_kernel(4.0, 25))
    assert noise_sigma(smooth + rng.normal(0, 7.0, smooth.shape)) == pytest.approx(7.0, rel=0.1)
    assert noise_sigma(smooth) < 1.0
