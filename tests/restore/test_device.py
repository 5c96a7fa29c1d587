"""The GPU path of restoration (every step on the model's device), run on the CPU: it
agrees with the NumPy path; batch size ``auto`` and the model settings."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from platefocus.restore.batching import (
    CPU_BATCH,
    MAX_BATCH,
    batch_from_memory,
    choose_batch_size,
    prepare_model,
)
from platefocus.restore.device import _pad, restore_planes_on_device
from platefocus.restore.inference import restore_planes
from platefocus.restore.settings import RestoreConfig
from platefocus.restore.tiling import pad_plane, plan_tiles


@pytest.mark.parametrize("border", ["odd", "even"])
def test_device_padding_equals_numpy_padding(border):
    rng = np.random.default_rng(0)
    plane = rng.random((50, 70))
    layout = plan_tiles(plane.shape, 32, 12)
    expected = pad_plane(plane, layout, border)
    got = _pad(torch.from_numpy(plane)[None, None], layout, border)[0, 0].numpy()
    np.testing.assert_allclose(got, expected, atol=1e-12)


@pytest.mark.parametrize("context", [0, 1])
def test_device_path_agrees_with_numpy_path(tiny_checkpoints, pairs_dataset, context):
    """Same planes to the rounding of uint16 (float32 on the device, float64 in NumPy)."""
    from platefocus.io.fields import field_array, list_fields
    from platefocus.model_io.checkpoint import load_model

    model, _ = load_model(tiny_checkpoints["layer"])
    if context:  # a model that takes neighbouring planes as channels
        conv = torch.nn.Conv2d(3, 1, 3, padding=1)
        torch.nn.init.normal_(conv.weight, std=0.2)
        model = torch.nn.Sequential(conv, torch.nn.Tanh())
    info = pairs_dataset[2]
    ref = list_fields(info["manifest"])[0]
    stack = np.asarray(field_array(info["plate"], ref)[0])
    config = RestoreConfig(tile=64, overlap=16, batch_size=5)
    planes = [0, 3, len(stack) - 1]
    numpy_path = restore_planes(model, stack, planes, config, "cpu", context)
    device_path = restore_planes_on_device(model, stack, planes, config, "cpu", context)
    assert device_path.dtype == stack.dtype and device_path.shape == numpy_path.shape
    diff = np.abs(device_path.astype(np.int64) - numpy_path.astype(np.int64))
    assert diff.max() <= 1, diff.max()
    assert (diff > 0).mean() < 0.01


def test_batch_from_memory():
    assert batch_from_memory(8 * 2**30, 2**20) == MAX_BATCH
    assert batch_from_memory(100 * 2**20, 2**20) == 50
    assert batch_from_memory(2**20, 2**30) == 1


def test_auto_batch_on_cpu_is_the_measured_best():
    model = torch.nn.Conv2d(1, 1, 3, padding=1)
    device = torch.device("cpu")
    assert choose_batch_size(model, RestoreConfig(batch_size="auto"), 1, device) == CPU_BATCH
    assert choose_batch_size(model, RestoreConfig(batch_size=7), 1, device) == 7
    with pytest.raises(ValueError, match="batch_size"):
        RestoreConfig(batch_size="many")


def test_auto_batch_and_channels_last_restore_the_same_planes(tiny_checkpoints):
    from platefocus.model_io.checkpoint import load_model

    model, _ = load_model(tiny_checkpoints["layer"])
    stack = (np.random.default_rng(1).random((2, 80, 90)) * 4000).astype(np.uint16)
    plain = restore_planes(model, stack, [0, 1], RestoreConfig(tile=64, overlap=16, batch_size=4))
    config = RestoreConfig(tile=64, overlap=16, batch_size="auto", channels_last=True)
    other = restore_planes(prepare_model(model, config), stack, [0, 1], config)
    assert np.abs(plain.astype(int) - other.astype(int)).max() <= 1
    # the process's shared model is not converted: later restores compute as before
    shared, _ = load_model(tiny_checkpoints["layer"])
    assert shared is model and all(p.is_contiguous() for p in shared.parameters())
    again = restore_planes(shared, stack, [0, 1], RestoreConfig(tile=64, overlap=16, batch_size=4))
    np.testing.assert_array_equal(again, plain)


def test_fastest_batch_is_timed_among_the_candidates(monkeypatch):
    """The timing probe returns the candidate with the most tiles per second."""
    import time as time_module

    from platefocus.restore.batching import fastest_batch

    calls = []

    class Slow(torch.nn.Module):  # 10 ms per call, whatever the batch: larger is faster
        def forward(self, x):
            calls.append(len(x))
            time_module.sleep(0.01)
            return x

    config = RestoreConfig(tile=16, overlap=4)
    best = fastest_batch(Slow(), config, 1, torch.device("cpu"), [1, 4, 8])
    assert best == 8 and set(calls) == {1, 4, 8}

    class Crowded(torch.nn.Module):  # a cost per call, and per tile past 4: 4 is fastest
        def forward(self, x):
            n = len(x)
            time_module.sleep(0.005 + 0.001 * n + (0.02 * n if n > 4 else 0))
            return x

    assert fastest_batch(Crowded(), config, 1, torch.device("cpu"), [1, 4, 8]) == 4


def test_batch_candidates_stop_at_what_memory_and_a_field_allow():
    from platefocus.restore.batching import batch_candidates

    assert batch_candidates(300) == [8, 16, 32, 64, 128, 256]
    assert batch_candidates(5) == [5]  # none fits: the memory limit itself
    # a field of 225 tiles: 256 holds it, larger batches would never be filled
    assert batch_candidates(MAX_BATCH, 225) == [8, 16, 32, 64, 128, 256]
    assert batch_candidates(MAX_BATCH, 256) == [8, 16, 32, 64, 128, 256]
    assert batch_candidates(100, 5000) == [8, 16, 32, 64]
    assert batch_candidates(MAX_BATCH, 3) == [8]


def test_timing_probe_stops_past_the_peak():
    """Candidates are timed in increasing order; two in a row clearly slower than the best
    end the probe (the larger ones are not run)."""
    from platefocus.restore.batching import fastest_batch

    tried = []

    class Peaked(torch.nn.Module):
        def forward(self, x):
            n = len(x)
            tried.append(n)
            time.sleep(0.002 * n if n <= 16 else 0.01 * n)  # per-tile cost jumps after 16
            return x

    config = RestoreConfig(batch_size="auto")
    best = fastest_batch(Peaked(), config, 1, torch.device("cpu"), [4, 8, 16, 32, 64, 128])
    assert best in (4, 8, 16)
    assert 128 not in tried and 64 in tried


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_asked_without_a_device_names_the_setting():
    from platefocus.errors import InputError
    from platefocus.model_io.checkpoint import choose_device

    with pytest.raises(InputError, match=r"^restore\.device: is 'cuda' but no CUDA device"):
        choose_device("cuda", key="restore.device")
    with pytest.raises(InputError, match=r"^training\.device: "):
        choose_device("cuda")
