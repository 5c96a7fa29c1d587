"""The training pairs during training: placement, augmentation, and the device's
defaults for ``"auto"`` settings."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from platefocus.errors import InputError
from platefocus.train.data import augment_batch, place_pairs
from platefocus.train.device_defaults import CPU_BATCH_SIZE, GPU_BATCH_SIZE, for_device
from platefocus.train.loop import TrainConfig

CPU, CUDA = torch.device("cpu"), torch.device("cuda")  # CUDA: a device object only


def test_pairs_stay_where_they_are_on_a_cpu():
    x, y = torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8)
    px, py = place_pairs(x, y, CPU)
    assert px is x and py is y


def test_augmentation_moves_input_and_target_alike_and_is_seeded():
    x = torch.arange(2 * 16, dtype=torch.float32).reshape(2, 1, 4, 4)
    a = augment_batch(x, x.clone(), torch.Generator().manual_seed(3), 0.1)
    b = augment_batch(x, x.clone(), torch.Generator().manual_seed(3), 0.1)
    assert torch.equal(a[0], a[1])  # the same flip, rotation and scale for both
    assert torch.equal(a[0], b[0])
    assert not torch.equal(a[0], x)


def test_auto_settings_resolve_per_device():
    config = TrainConfig(batch_size="auto", compile="auto")
    on_cpu = for_device(config, CPU)
    assert (on_cpu.batch_size, on_cpu.compile) == (CPU_BATCH_SIZE, False)
    on_gpu = for_device(config, CUDA)
    assert on_gpu.batch_size == GPU_BATCH_SIZE > CPU_BATCH_SIZE
    fixed = dataclasses.replace(config, batch_size=8, compile=True)
    assert (for_device(fixed, CUDA).batch_size, for_device(fixed, CPU).compile) == (8, True)


@pytest.mark.parametrize(
    ("key", "change"),
    [
        ("training.batch_size", {"batch_size": 0}),
        ("training.batch_size", {"batch_size": "big"}),
        ("training.compile", {"compile": "sometimes"}),
    ],
)
def test_bad_auto_settings_name_their_key(key, change):
    with pytest.raises(InputError, match=key.replace(".", r"\.")):
        for_device(dataclasses.replace(TrainConfig(), **change), CPU)
