"""Focus metrics: against independent plain implementations, direction, and edge cases."""

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from platefocus.focus import reference
from platefocus.focus.metrics import (
    METRICS,
    local_focus_score,
    power_log_log_slope,
    score_stack,
    tile_grid,
)

# Independent, literal re-implementations of the published formulas (one image at a time).
ref_focus_score = reference.focus_score
ref_local_focus_score = reference.local_focus_score
ref_power_log_log_slope = reference.power_log_log_slope


def images():
    rng = np.random.default_rng(7)
    noise = rng.poisson(200, size=(96, 120)).astype(np.uint16)
    blobs = ndimage.gaussian_filter(rng.random((130, 101)), 3) * 4000 + 100
    ramp = np.add.outer(np.arange(64), np.arange(80)).astype(np.float64) + 5
    return [noise, blobs, ramp]


@pytest.fixture(scope="module")
def plane(tiny_plate):
    files = sorted((tiny_plate / "images").rglob("*_a01_s1_*.tif"))
    return tifffile.imread(files[4])


@pytest.mark.parametrize("index", range(3))
def test_cellprofiler_metrics_match_reference(index):
    img = images()[index]
    s = score_stack(img, (1, 1), window=20)
    assert s["focus_score"][0, 0] == pytest.approx(ref_focus_score(img), rel=1e-6)
    assert s["local_focus_score"][0, 0] == pytest.approx(ref_local_focus_score(img, 20), rel=1e-6)
    assert s["power_log_log_slope"][0, 0] == pytest.approx(ref_power_log_log_slope(img), rel=1e-6)


def test_cellprofiler_metrics_on_a_microscopy_plane_and_its_tiles(plane):
    s = score_stack(plane, (2, 3), window=13)
    regions = tile_grid(*plane.shape, (2, 3))
    for ri, r in enumerate(regions, start=1):
        sub = plane[r.y, r.x]
        assert s["focus_score"][0, ri] == pytest.approx(ref_focus_score(sub), rel=1e-6)
        assert s["local_focus_score"][0, ri] == pytest.approx(
            ref_local_focus_score(sub, 13), rel=1e-6
        )
        assert s["power_log_log_slope"][0, ri] == pytest.approx(
            ref_power_log_log_slope(sub), rel=1e-6
        )


def test_gradient_metrics_match_plain_scipy(plane):
    img = plane.astype(float)
    s = score_stack(img, (2, 2))
    for metric in ("laplacian_variance", "tenengrad", "brenner"):
        expected = reference.REFERENCE[metric](img)
        assert s[metric][0, 0] == pytest.approx(expected, rel=1e-9)
    lap = ndimage.laplace(img, mode="reflect")
    gx, gy = ndimage.sobel(img, axis=1, mode="reflect"), ndimage.sobel(img, axis=0, mode="reflect")
    # tiles: the same maps restricted to the tile
    for ri, r in enumerate(tile_grid(*img.shape, (2, 2)), start=1):
        assert s["laplacian_variance"][0, ri] == pytest.approx(lap[r.y, r.x].var(), rel=1e-9)
        assert s["tenengrad"][0, ri] == pytest.approx((gx**2 + gy**2)[r.y, r.x].mean(), rel=1e-9)


def test_vectorised_over_z_equals_plane_by_plane(tiny_plate):
    files = sorted((tiny_plate / "images").rglob("*_a02_s1_*.tif"))
    stack = np.stack([tifffile.imread(f) for f in files])
    together = score_stack(stack, (2, 2), batch=4)
    for k in range(len(stack)):
        alone = score_stack(stack[k], (2, 2))
        for m in METRICS:
            np.testing.assert_allclose(together[m][k], alone[m][0], rtol=1e-10)


def _in_focus_plane(out, **overrides):
    """The in-focus plane of a flat 256 x 256 synthetic field (the demo plate's size)."""
    from conftest import tiny_spec

    from platefocus.synth import generate_plate

    spec = tiny_spec(
        columns=1,
        planes=3,
        best_plane=1.0,
        height=256,
        width=256,
        field_tilt_um=0.0,
        field_curvature_um=0.0,
        **overrides,
    )
    out = generate_plate(spec, out / "p", progress=False)
    return tifffile.imread(next((out / "images").glob("*_z_01/*.tif"))).astype(float)


@pytest.fixture(scope="module")
def sparse_plane(tmp_path_factory):
    """An in-focus plane with a few nuclei of 12 um on dark background."""
    from platefocus.synth.objects import NucleusPopulation

    nuclei = NucleusPopulation(diameter_um=(12.0, 2.0), count_per_100x100_um=(3.0, 4.0))
    return _in_focus_plane(tmp_path_factory.mktemp("sparse"), name="sparse", nuclei=nuclei)


@pytest.fixture(scope="module")
def large_plane(tmp_path_factory):
    """An in-focus 256 x 256 plane of nuclei (the demo plate's field size)."""
    return _in_focus_plane(tmp_path_factory.mktemp("big"), name="big")


def blurred(img, sigmas=(0, 1, 2, 4, 8)):
    return np.stack([ndimage.gaussian_filter(img, s) if s else img for s in sigmas])


MONOTONE = [m for m in METRICS if m != "local_focus_score"]


@pytest.mark.parametrize("metric", MONOTONE)
def test_sharper_is_higher(large_plane, metric):
    # progressively blurred copies of an in-focus plane score progressively lower
    sigmas = (0, 1, 2, 4, 8)
    if metric == "power_log_log_slope":
        # CellProfiler's PowerLogLogSlope takes the FFT without a window: once the blur
        # exceeds ~4 px on 30 px nuclei, the spectrum of the border discontinuity
        # (slope about -3) dominates and the slope stops falling (measured: -3.10 at
        # sigma 4, -3.04 at sigma 8; mirrored to be periodic it keeps falling, to -10.9).
        sigmas = (0, 1, 2, 4)
    values = score_stack(blurred(large_plane, sigmas), (1, 1))[metric][:, 0]
    assert np.all(np.diff(values) < 0), values


def test_local_focus_score_documented_sign(sparse_plane):
    # On dense texture LocalFocusScore falls with blur like the others ...
    texture = images()[1]
    values = score_stack(blurred(texture), (1, 1))["local_focus_score"][:, 0]
    assert np.all(np.diff(values) < 0), values
    # ... but on a sparse nuclei field it rises under mild blur, as documented.
    sparse = score_stack(blurred(sparse_plane, (0, 1)), (1, 1))["local_focus_score"][:, 0]
    assert sparse[1] > sparse[0]


def test_power_spectrum_slope_saturates_on_small_tiles(large_plane):
    # documented: a 96 px tile sees radial bins below 12 only; past ~4 px of blur the
    # slope no longer falls.
    values = score_stack(blurred(large_plane[:96, :96]), (1, 1))["power_log_log_slope"][:, 0]
    assert np.all(np.diff(values[:4]) < 0)


def test_tile_grid_covers_plane():
    tiles = tile_grid(97, 101, (3, 4))
    covered = np.zeros((97, 101), int)
    for t in tiles:
        covered[t.y, t.x] += 1
    assert (covered == 1).all()
    assert [t.name for t in tiles[:5]] == ["t00", "t01", "t02", "t03", "t10"]
    with pytest.raises(ValueError):
        tile_grid(10, 10, (0, 2))


def test_constant_plane_scores_zero():
    s = score_stack(np.full((2, 40, 40), 123, np.uint16), (2, 2))
    for m in METRICS:
        assert np.all(s[m] == 0), m


def test_all_zero_plane_scores_zero():
    s = score_stack(np.zeros((40, 40), np.uint16), (2, 2))
    for m in METRICS:
        assert np.all(s[m] == 0), m
    assert local_focus_score(np.zeros((1, 40, 40))) == pytest.approx([0.0])


def test_nan_is_a_clear_error():
    img = np.ones((2, 30, 30))
    img[1, 3, 4] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN or infinite pixels \(planes \[1\]\)"):
        score_stack(img)


def test_bad_shapes():
    with pytest.raises(ValueError, match="must be"):
        score_stack(np.zeros((2, 2, 3, 3)))
    with pytest.raises(ValueError, match="at least 3x3"):
        score_stack(np.zeros((2, 2)))


def test_saturation_fraction():
    img = np.full((20, 20), 100, np.uint16)
    img[:2, :10] = 65535
    s = score_stack(img, (2, 2))
    assert s["saturated_fraction"][0, 0] == pytest.approx(20 / 400)
    assert s["saturated_fraction"][0, 1] == pytest.approx(20 / 100)


def test_small_plane_spectrum_is_zero():
    # fewer than two radial bins below min(H, W) / 8: CellProfiler reports 0
    assert power_log_log_slope(np.random.default_rng(0).random((12, 12)))[0] == 0.0


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.float32])
def test_integer_and_float_planes_score_alike(plane, dtype):
    """The compiled kernel reads each dtype as it is: the scores of a plane do not depend on
    the dtype that holds its values (float64 is the reference)."""
    img = (plane // 300 if dtype == np.uint8 else plane).astype(dtype)
    got = score_stack(img, (3, 2), window=11, saturation=np.inf)
    expected = score_stack(img.astype(np.float64), (3, 2), window=11, saturation=np.inf)
    for m in (*METRICS, "mean", "std"):
        np.testing.assert_allclose(got[m], expected[m], rtol=1e-6, err_msg=m)


def test_power_log_log_slope_ignores_the_spread_normalisation(plane):
    """CellProfiler divides by median(|I - mean|) first; platefocus skips that division
    because a constant factor cannot change a log-log slope: the reference, which divides,
    agrees with scaled copies of the plane."""
    img = plane.astype(np.float64)
    for factor in (1.0, 0.01, 37.0):
        assert power_log_log_slope(img * factor)[0] == pytest.approx(
            ref_power_log_log_slope(img), rel=1e-6
        )
