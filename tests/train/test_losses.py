"""Losses."""

import numpy as np
import pytest
import torch

from platefocus.train.losses import LOSSES, WeightedLoss


@pytest.mark.parametrize("name", LOSSES)
def test_zero_for_identical_positive_for_different(name):
    torch.manual_seed(0)
    a = torch.rand(4, 1, 64, 64)
    b = (a + 0.2 * torch.randn_like(a)).clamp(0, 1)
    loss = WeightedLoss({name: 1.0})
    assert float(loss(a, a)) == pytest.approx(0.0, abs=1e-5)
    assert float(loss(b, a)) > 0.01


def test_weighted_sum_and_gradients():
    torch.manual_seed(0)
    a, b = torch.rand(2, 1, 48, 48), torch.rand(2, 1, 48, 48, requires_grad=True)
    mixed = WeightedLoss({"ssim": 0.7, "l1": 0.3})
    expected = 0.7 * WeightedLoss({"ssim": 1})(b, a) + 0.3 * WeightedLoss({"l1": 1})(b, a)
    assert float(mixed(b, a)) == pytest.approx(float(expected), rel=1e-6)
    mixed(b, a).backward()
    assert b.grad is not None and torch.isfinite(b.grad).all()


def test_ms_ssim_on_small_patches():
    a = torch.rand(2, 1, 32, 32)
    assert float(WeightedLoss({"ms_ssim": 1})(a, a)) == pytest.approx(0, abs=1e-5)


def test_ms_ssim_matches_the_library_on_large_images():
    from pytorch_msssim import ms_ssim

    from platefocus.train.losses import ms_ssim_small

    torch.manual_seed(0)
    a = torch.rand(2, 1, 160, 160)
    b = (a + 0.1 * torch.randn_like(a)).clamp(0, 1)
    expected = ms_ssim(b, a, data_range=1.0, win_size=7)
    assert float(ms_ssim_small(b, a)) == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize("weights", [{}, {"l2": 1.0}, {"l1": -1.0}, {"l1": 0.0}])
def test_bad_weights(weights):
    with pytest.raises(ValueError):
        WeightedLoss(weights)


def test_feature_loss_is_zero_for_identical_images_and_grows_with_blur():
    """The frozen random network's features: no difference for the same image, and a
    difference that grows with the blur of the target (what a perceptual loss must do)."""
    from scipy import ndimage

    from platefocus.train.losses import FeatureLoss

    rng = np.random.default_rng(0)
    sharp = np.zeros((96, 96), np.float32)
    for y, x in rng.integers(8, 88, size=(25, 2)):
        sharp[y - 3 : y + 4, x - 3 : x + 4] = 1.0
    loss = FeatureLoss()
    target = torch.from_numpy(sharp)[None, None]
    assert float(loss(target, target)) == 0.0
    values = [
        float(loss(torch.from_numpy(ndimage.gaussian_filter(sharp, s))[None, None], target))
        for s in (0.5, 1.0, 2.0, 4.0)
    ]
    assert values == sorted(values) and values[0] > 0, values
    # frozen: same features on every construction, no parameters to train
    assert float(FeatureLoss()(target * 0.5, target)) == float(loss(target * 0.5, target))
    assert not any(p.requires_grad for p in loss.parameters())


def test_feature_term_gives_the_prediction_gradients():
    torch.manual_seed(0)
    a, b = torch.rand(2, 1, 40, 40), torch.rand(2, 1, 40, 40, requires_grad=True)
    WeightedLoss({"feature": 1.0, "l1": 0.5})(b, a).backward()
    assert b.grad is not None and torch.isfinite(b.grad).all() and b.grad.abs().sum() > 0


def test_plate_feature_network_learns_the_targets_and_still_ranks_blur():
    """``feature_plate``: the network trained as a denoising autoencoder on in-focus
    targets (its reconstruction loss falls by half), seeded (two fits give the same
    features), frozen afterwards, zero for identical images and growing with blur."""
    from scipy import ndimage

    from platefocus.train.losses import FeatureLoss

    rng = np.random.default_rng(0)
    targets = np.zeros((16, 1, 32, 32), np.float32)
    for t in targets:
        for y, x in rng.integers(4, 28, size=(4, 2)):
            t[0, y - 3 : y + 4, x - 3 : x + 4] = 1.0
    targets = torch.from_numpy(targets)
    loss, again = WeightedLoss({"feature_plate": 1.0}), WeightedLoss({"feature_plate": 1.0})
    steps = loss.plate_features.fit(targets, steps=60, batch_size=8)
    again.plate_features.fit(targets, steps=60, batch_size=8)
    assert np.mean(steps[-10:]) < 0.5 * np.mean(steps[:10]), steps[::10]
    assert all(
        torch.equal(a, b) for a, b in zip(loss.parameters(), again.parameters(), strict=True)
    )
    assert not any(p.requires_grad for p in loss.parameters())
    assert any(  # the fit changed the random features
        not torch.equal(a, b)
        for a, b in zip(loss.plate_features.parameters(), FeatureLoss().parameters(), strict=True)
    )
    sharp = targets[0, 0].numpy()
    target = targets[:1]
    assert float(loss(target, target)) == 0.0
    values = [
        float(loss(torch.from_numpy(ndimage.gaussian_filter(sharp, s))[None, None], target))
        for s in (0.5, 1.0, 2.0, 4.0)
    ]
    assert values == sorted(values) and values[0] > 0, values
