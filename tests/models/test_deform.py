"""Deformable convolution and attention against slow, explicit references."""

import math

import pytest
import torch
import torch.nn.functional as F

from platefocus.models.deform import (
    DeformableAttention2d,
    DeformConv2d,
    deform_conv2d,
    sample_bilinear,
)


def bilinear(img, y, x):
    """Value of ``img`` (H, W) at real position (y, x): four neighbours, zero outside."""
    h, w = img.shape
    y0, x0 = math.floor(y), math.floor(x)
    total = 0.0
    for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
        for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
            if 0 <= yy < h and 0 <= xx < w:
                total += wy * wx * float(img[yy, xx])
    return total


def reference_deform_conv2d(x, offset, weight, bias, stride, padding, dilation, mask=None):
    """Deformable convolution written as the definition: loops over every index."""
    b, c, h, w = x.shape
    o, _, kh, kw = weight.shape
    ho = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    wo = (w + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    out = torch.zeros(b, o, ho, wo, dtype=torch.float64)
    for n in range(b):
        for i in range(ho):
            for j in range(wo):
                for ki in range(kh):
                    for kj in range(kw):
                        k = ki * kw + kj
                        y = i * stride - padding + ki * dilation + float(offset[n, 2 * k, i, j])
                        xx = (
                            j * stride - padding + kj * dilation + float(offset[n, 2 * k + 1, i, j])
                        )
                        m = 1.0 if mask is None else float(mask[n, k, i, j])
                        for ch in range(c):
                            v = m * bilinear(x[n, ch], y, xx)
                            for oc in range(o):
                                out[n, oc, i, j] += float(weight[oc, ch, ki, kj]) * v
                if bias is not None:
                    out[n, :, i, j] += bias.double()
    return out


@pytest.mark.parametrize(
    "size, kernel, stride, padding, dilation",
    [((7, 6), 3, 1, 1, 1), ((9, 8), 3, 2, 1, 1), ((8, 9), 3, 1, 2, 2), ((6, 7), 2, 1, 0, 1)],
)
def test_deform_conv2d_matches_the_loop_reference(size, kernel, stride, padding, dilation):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, *size, generator=g, dtype=torch.float64)
    weight = torch.randn(4, 3, kernel, kernel, generator=g, dtype=torch.float64)
    bias = torch.randn(4, generator=g, dtype=torch.float64)
    ho = (size[0] + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    wo = (size[1] + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    # Offsets up to 3 px: many samples fall between pixels and some outside the image.
    offset = 3 * torch.randn(2, 2 * kernel * kernel, ho, wo, generator=g, dtype=torch.float64)
    mask = torch.rand(2, kernel * kernel, ho, wo, generator=g, dtype=torch.float64)
    ours = deform_conv2d(x, offset, weight, bias, stride, padding, dilation, mask)
    ref = reference_deform_conv2d(x, offset, weight, bias, stride, padding, dilation, mask)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)
    ours = deform_conv2d(x, offset, weight, None, stride, padding, dilation)
    ref = reference_deform_conv2d(x, offset, weight, None, stride, padding, dilation)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("stride, padding, dilation", [(1, 1, 1), (2, 0, 1), (1, 2, 2)])
def test_zero_offsets_are_an_ordinary_convolution(stride, padding, dilation):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 11, 10, generator=g)
    weight = torch.randn(5, 3, 3, 3, generator=g)
    bias = torch.randn(5, generator=g)
    conv = F.conv2d(x, weight, bias, stride, padding, dilation)
    offset = torch.zeros(2, 18, *conv.shape[-2:])
    torch.testing.assert_close(
        deform_conv2d(x, offset, weight, bias, stride, padding, dilation),
        conv,
        rtol=1e-5,
        atol=1e-5,
    )


def test_integer_offsets_shift_the_input():
    x = torch.arange(30.0).view(1, 1, 5, 6)
    weight = torch.ones(1, 1, 1, 1)
    offset = torch.zeros(1, 2, 5, 6)
    offset[:, 0], offset[:, 1] = 1.0, -2.0  # sample one row down, two columns left
    out = deform_conv2d(x, offset, weight)
    expected = torch.zeros_like(x)
    expected[..., :4, 2:] = x[..., 1:, :4]
    torch.testing.assert_close(out, expected)


def test_gradients_reach_input_weight_and_offsets():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(1, 2, 6, 6, generator=g, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(3, 2, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    offset = (0.3 * torch.randn(1, 18, 6, 6, generator=g, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda a, b, c: deform_conv2d(a, c, b, padding=1), (x, weight, offset), atol=1e-6
    )


def test_deform_conv_module_starts_as_a_convolution():
    torch.manual_seed(0)
    layer = DeformConv2d(3, 4, 3)
    x = torch.randn(2, 3, 9, 7)
    torch.testing.assert_close(
        layer(x), F.conv2d(x, layer.weight, layer.bias, padding=1), rtol=1e-5, atol=1e-5
    )


def test_deformable_attention_matches_an_explicit_reference():
    torch.manual_seed(0)
    attn = DeformableAttention2d(dim=4, heads=2, points=3).double()
    with torch.no_grad():
        for p in attn.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x = torch.randn(1, 4, 5, 6, dtype=torch.float64)
    ours = attn(x)
    with torch.no_grad():
        ref = explicit_deformable_attention(attn, x)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)


def explicit_deformable_attention(attn, x):
    value = attn.value(x)[0]
    off = attn.offsets(x)[0].view(2, 3, 2, 5, 6)
    logits = attn.weights(x)[0].view(2, 3, 5, 6)
    mixed = torch.zeros(4, 5, 6, dtype=torch.float64)
    for head in range(2):
        for i in range(5):
            for j in range(6):
                weights = torch.softmax(logits[head, :, i, j], dim=0)
                for p in range(3):
                    y = i + float(off[head, p, 0, i, j])
                    xx = j + float(off[head, p, 1, i, j])
                    for ch in range(2):
                        c = head * 2 + ch
                        mixed[c, i, j] += float(weights[p]) * bilinear(value[c], y, xx)
    return attn.project(mixed[None])


def test_sample_bilinear_at_pixel_centres_is_exact():
    x = torch.randn(1, 2, 4, 5)
    ys, xs = torch.meshgrid(torch.arange(4.0), torch.arange(5.0), indexing="ij")
    torch.testing.assert_close(sample_bilinear(x, ys[None], xs[None]), x)
