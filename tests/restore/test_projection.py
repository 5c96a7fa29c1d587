"""``restore.projection``: restored planes projected onto their observations with the
defocus operator of their offset, as they are written."""

import numpy as np
import pytest
import zarr

from platefocus.consistency.projection import blur
from platefocus.consistency.stack import nearest_kernel, save_kernels
from platefocus.io.omezarr import Acquisition
from platefocus.restore import PlaneSelection, restore_plate
from platefocus.restore.projection import project_planes
from platefocus.restore.settings import RestoreConfig


def gaussian(sigma: float, size: int = 15) -> np.ndarray:
    c = size // 2
    yy, xx = np.indices((size, size))
    k = np.exp(-((yy - c) ** 2 + (xx - c) ** 2) / (2 * sigma**2))
    return k / k.sum()


def test_nearest_kernel_stays_on_its_side_of_focus():
    kernels = {-2: np.full((3, 3), -2.0), 2: np.full((3, 3), 2.0), 6: np.full((3, 3), 6.0)}
    assert nearest_kernel(kernels, 3)[0, 0] == 2 and nearest_kernel(kernels, 5)[0, 0] == 6
    assert nearest_kernel(kernels, -9)[0, 0] == -2
    with pytest.raises(ValueError, match="no kernels"):
        nearest_kernel({}, 2)


def test_projected_planes_reblur_to_the_observation_and_focus_is_left_alone():
    rng = np.random.default_rng(0)
    truth = np.full((80, 80), 200.0)
    for cy, cx in rng.integers(10, 70, size=(10, 2)):
        truth[cy - 4 : cy + 4, cx - 4 : cx + 4] = 3000.0
    kernel = gaussian(2.5)
    observed = np.stack([blur(truth, kernel)] * 3)
    guess = rng.normal(1500, 400, (3, 80, 80))  # far from consistent
    out = project_planes(observed, guess, [2, 0, None], {2: kernel, -2: kernel}, 1e-6)
    centre = (slice(15, 65), slice(15, 65))
    before = np.abs(blur(guess[0], kernel) - observed[0])[centre].mean()
    after = np.abs(blur(out[0], kernel) - observed[0])[centre].mean()
    assert after < before / 100, (before, after)
    np.testing.assert_array_equal(out[1:], guess[1:])  # dz 0 and unknown: as restored
    as_uint = project_planes(
        observed[:1].astype(np.uint16), guess[:1].astype(np.uint16), [2], {2: kernel}, None
    )
    with pytest.raises(ValueError, match="offsets"):
        project_planes(observed, guess, [2], {2: kernel}, None)
    assert as_uint.dtype == np.uint16 and as_uint.shape == (1, 80, 80)


def test_restore_with_projection_writes_consistent_planes(
    pairs_dataset, tiny_checkpoints, tmp_path
):
    """The same plate restored with and without ``restore.projection``: the projected
    planes are closer to their observations when re-blurred, and the output's metadata
    names the operator."""
    _, _, ctx = pairs_dataset
    kernels = {-3: gaussian(2.0), 3: gaussian(2.0)}
    operator = tmp_path / "operator.npz"
    save_kernels(operator, kernels, kernels, 2.0)
    outputs = {}
    for name, settings in (("plain", {}), ("projected", {"operator": str(operator)})):
        outputs[name] = tmp_path / f"{name}.ome.zarr"
        restore_plate(
            ctx["plate"],
            ctx["manifest"],
            tiny_checkpoints["layer"],
            outputs[name],
            PlaneSelection(offsets=(-3, 3)),
            RestoreConfig(tile=64, overlap=16, **settings),
            Acquisition(0.65, 2.0),
            best=ctx["best"],
            progress=False,
        )
    plain, projected = (zarr.open_group(str(outputs[n]), mode="r") for n in ("plain", "projected"))
    assert projected.attrs["platefocus"]["restore"]["operator"] == str(operator)
    source = zarr.open_group(str(ctx["plate"]), mode="r")
    field = "A/1/0/s0"  # (c, z, y, x), full resolution
    restored_plain = np.asarray(plain[field])[0].astype(np.float64)
    restored_projected = np.asarray(projected[field])[0].astype(np.float64)
    assert not np.array_equal(restored_plain, restored_projected)
    # each output plane's observation: the source plane it was restored from
    source_z = dict(projected["A/1/0"].attrs)["platefocus"]["source_z"]
    observed = np.asarray(source[field])[0].astype(np.float64)
    misfit = {}
    for name, planes in (("plain", restored_plain), ("projected", restored_projected)):
        errors = [
            np.abs(blur(planes[i], kernels[3]) - observed[z])[16:-16, 16:-16].mean()
            for i, z in enumerate(source_z)
        ]
        misfit[name] = float(np.mean(errors))
    assert misfit["projected"] < misfit["plain"], misfit
