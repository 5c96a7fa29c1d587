"""DDNM: the operator's kernels, data consistency of the sampler's output, the prior's
denoising loss, determinism, and plane offsets reaching the network through the tiler."""

import numpy as np
import pytest
import torch

from platefocus.consistency.projection import blur
from platefocus.consistency.stack import save_kernels
from platefocus.models import build_model
from platefocus.models.catalog import OPERATOR_ARCHITECTURES, architecture_arguments
from platefocus.models.registry import apply_model, takes_offset
from platefocus.restore.inference import restore_planes
from platefocus.restore.settings import RestoreConfig

SMALL = dict(width=8, sampling_steps=3, kernel_size=9, max_offset=4)


def gaussian(sigma: float, size: int = 9) -> np.ndarray:
    c = size // 2
    yy, xx = np.indices((size, size))
    k = np.exp(-((yy - c) ** 2 + (xx - c) ** 2) / (2 * sigma**2))
    return k / k.sum()


@pytest.fixture
def operator_file(tmp_path):
    """Kernels at dz = -2 and +2 (above: narrower, below: wider), identity elsewhere."""
    path = tmp_path / "operator.npz"
    estimated = {-2: gaussian(1.0), 2: gaussian(2.0)}
    save_kernels(path, estimated, estimated, 2.0)
    return path


def test_kernels_load_and_the_nearest_on_the_same_side_serves_other_offsets(operator_file):
    model = build_model("ddnm", **SMALL)
    with pytest.raises(RuntimeError, match="load_operator"):
        model.kernel_for(2)
    model.load_operator(operator_file)
    np.testing.assert_allclose(model.kernel_for(2).numpy(), gaussian(2.0), rtol=1e-6)
    np.testing.assert_allclose(model.kernel_for(4).numpy(), gaussian(2.0), rtol=1e-6)
    np.testing.assert_allclose(model.kernel_for(-3).numpy(), gaussian(1.0), rtol=1e-6)
    identity = model.kernel_for(0).numpy()
    assert identity.sum() == 1 and identity[4, 4] == 1
    with pytest.raises(ValueError, match="not 7"):
        build_model("ddnm", **{**SMALL, "kernel_size": 7}).load_operator(operator_file)


def test_restored_tiles_reproduce_the_observation_when_reblurred(operator_file):
    """Whatever the (untrained) prior invents, the last range-null step makes ``A x' = y``
    where the operator passes: with a small lam the re-blurred output is 20x closer to
    the observation than the observation's own re-blur, in the centre of the tile."""
    torch.manual_seed(0)
    model = build_model("ddnm", **{**SMALL, "regularisation": 1e-4}).eval()
    model.load_operator(operator_file)
    rng = np.random.default_rng(0)
    truth = np.zeros((48, 48))
    for cy, cx in rng.integers(8, 40, size=(6, 2)):
        truth[cy - 3 : cy + 3, cx - 3 : cx + 3] = 1.0
    y = blur(truth, gaussian(2.0))
    with torch.no_grad():
        out = apply_model(
            model, torch.tensor(y, dtype=torch.float32)[None, None], torch.tensor([2])
        )
    out = out[0, 0].double().numpy()
    centre = (slice(10, 38), slice(10, 38))
    misfit = np.abs(blur(out, gaussian(2.0)) - y)[centre].mean()
    reblur = np.abs(blur(y, gaussian(2.0)) - y)[centre].mean()
    assert misfit < reblur / 20, (misfit, reblur)
    assert not np.allclose(out, y, atol=1e-3)  # the prior filled the null space


def test_sampling_is_deterministic_and_needs_offsets(operator_file):
    model = build_model("ddnm", **SMALL).eval()
    model.load_operator(operator_file)
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        a = model(x, torch.tensor([2, -2]))
        b = model(x, torch.tensor([2, -2]))
    assert torch.equal(a, b) and a.shape == x.shape
    with pytest.raises(ValueError, match="dz"):
        model(x)
    assert takes_offset(model) and model.schedule()[-1] == 0
    assert len(model.schedule()) == 3 and model.schedule()[0] == 99


def test_the_prior_learns_to_denoise_the_targets():
    """The denoising loss on one batch of targets falls by a third in 40 steps."""
    torch.manual_seed(0)
    model = build_model("ddnm", **SMALL)
    y = torch.zeros(8, 1, 16, 16)
    y[:, :, 4:12, 4:12] = 1
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        first = float(model.training_loss(y, y, torch.Generator().manual_seed(1)))
    for _ in range(40):
        loss = model.training_loss(y, y, generator)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        last = float(model.training_loss(y, y, torch.Generator().manual_seed(1)))
    assert last < 0.67 * first, (first, last)


def test_arguments_are_checked_and_the_catalog_knows_ddnm():
    with pytest.raises(ValueError, match="start"):
        build_model("ddnm", start=0.0)
    with pytest.raises(ValueError, match="sampling_steps"):
        build_model("ddnm", sampling_steps=0)
    with pytest.raises(ValueError, match="single 2D"):
        build_model("ddnm", in_channels=3)
    assert "sampling_steps" in architecture_arguments()["ddnm"]
    from platefocus.models import MODELS

    with_operator = {n for n, b in MODELS.items() if hasattr(b(), "load_operator")}
    assert with_operator == set(OPERATOR_ARCHITECTURES)


class OffsetEcho(torch.nn.Module):
    """Returns each tile's offset as its value: shows which offset reached which tile."""

    takes_offset = True

    def forward(self, x, dz):
        return torch.ones_like(x[:, :1]) * dz.view(-1, 1, 1, 1).float()


def test_the_tiler_gives_every_tile_its_planes_offset():
    stack = np.random.default_rng(0).integers(0, 1000, (5, 70, 90)).astype(np.float32)
    config = RestoreConfig(tile=32, overlap=8, batch_size=3, percentiles=(0.0, 100.0))
    out = restore_planes(OffsetEcho(), stack, [0, 4, 1], config, offsets=[-2, 2, None])
    assert out.shape == (3, 70, 90)
    assert all(np.ptp(plane) <= 1e-3 * max(1.0, np.abs(plane).max()) for plane in out)
    # the echoed offsets come back through the undone normalisation: lo + dz * (hi - lo)
    for k, plane, dz in zip([0, 4, 1], out, [-2, 2, 0], strict=True):
        lo, hi = stack[k].min(), stack[k].max()
        np.testing.assert_allclose(plane[0, 0], lo + dz * (hi - lo), rtol=1e-5)
