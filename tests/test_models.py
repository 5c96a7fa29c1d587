"""Model registry and architectures."""

import pytest
import torch

from platefocus.models import MODELS, build_model, register


@pytest.mark.parametrize("levels", [1, 2, 3, 4])
@pytest.mark.parametrize("spatial_dims, shape", [(2, (2, 1, 37, 45)), (3, (1, 1, 11, 21, 19))])
def test_restormer_any_levels_odd_sizes(levels, spatial_dims, shape):
    torch.manual_seed(0)
    model = build_model("restormer", spatial_dims=spatial_dims, levels=levels, width=8)
    x = torch.randn(*shape)
    y = model(x)
    assert y.shape == x.shape
    y.mean().backward()  # trainable end to end


def test_restormer_uses_pixel_unshuffle_and_transposed_attention():
    from monai.networks.blocks.cablock import CABlock

    model = build_model("restormer", levels=3, width=8)
    names = {type(m).__name__ for m in model.modules()}
    assert any(isinstance(m, CABlock) for m in model.modules())  # channel (transposed) attn
    # MONAI's names for pixel-unshuffle down-sampling and pixel-shuffle up-sampling
    assert "SubpixelDownsample" in names and "SubpixelUpsample" in names


def test_untrained_networks_are_the_identity_and_add_the_input():
    x = torch.randn(2, 1, 33, 40)
    for name in MODELS:
        model = build_model(name)
        assert torch.equal(model(x), x), name
    # the residual is added to the centre channel when neighbouring planes are inputs
    model = build_model("restormer", in_channels=3, width=8)
    x3 = torch.randn(1, 3, 32, 32)
    assert torch.equal(model(x3), x3[:, 1:2])


def test_layer_norm_variant_replaces_instance_norm():
    model = build_model("restormer", norm="layer", width=8)
    kinds = {type(m).__name__ for m in model.modules()}
    assert "ChannelLayerNorm" in kinds and "InstanceNorm2d" not in kinds
    x = torch.randn(1, 1, 36, 36)
    assert model(x).shape == x.shape


def test_layer_norm_output_at_a_pixel_ignores_far_away_pixels():
    # per-pixel LayerNorm has no image-wide statistics; InstanceNorm has
    torch.manual_seed(1)
    results = {}
    for norm in ("instance", "layer"):
        model = build_model("restormer", norm=norm, width=8, levels=2)
        for p in model.parameters():  # leave the identity so the branch matters
            torch.nn.init.normal_(p, std=0.1)
        x = torch.randn(1, 1, 64, 64)
        x2 = x.clone()
        x2[..., 48:, 48:] += 5.0  # change a far corner
        with torch.no_grad():
            results[norm] = (model(x) - model(x2))[..., :8, :8].abs().max().item()
    assert results["instance"] > 1e-3
    assert results["layer"] < results["instance"]


def test_unet_odd_sizes():
    model = build_model("unet", features=(8, 8, 16, 16, 16, 8))
    x = torch.randn(2, 1, 37, 45)
    assert model(x).shape == x.shape


def test_registry_errors_and_one_file_extension():
    with pytest.raises(ValueError, match="unknown model"):
        build_model("resnet")
    with pytest.raises(ValueError, match="restormer"):
        build_model("restormer", depth=3)
    with pytest.raises(ValueError, match="levels"):
        build_model("restormer", levels=5)

    @register("test_identity")
    def build(spatial_dims=2, in_channels=1):
        return torch.nn.Identity()

    try:
        assert isinstance(build_model("test_identity"), torch.nn.Identity)
        with pytest.raises(ValueError, match="twice"):
            register("test_identity")(build)
    finally:
        MODELS.pop("test_identity")
