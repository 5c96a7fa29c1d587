"""Training settings that depend on the device: ``"auto"`` resolved to what measured
fastest there (``benchmarks/bench_train.py``).

On a CPU the defaults are those the demo and the tests are seeded with (batch 16,
eager). On a GPU small batches leave the device waiting for kernel launches. Measured on
an NVIDIA H200 (``bench_train.py --device cuda --sweep 16,64,256,1024 --compiled-at
256``, the default Restormer, 64 x 64 patches, patches/s in bfloat16 eager): 544 at batch
16, 2012 at 64, 4459 at 256, 5001 at 1024. 256 takes 8x the patches per second of 16, and
bfloat16 pays from there on (float32: 4190 at 256, 3470 at 1024; at 16 and 64 float32 is
faster); 1024 adds 12% for a quarter of the optimiser steps per epoch. The training loop
itself keeps 0.95 of the bare step at 256, its pairs on the device (0.91 from the host).
``torch.compile`` runs a step 2.3x faster at 256 (10156 patches/s), but compiling is a
one-off cost of its own (not timed apart by the benchmark) while the demo's whole
training at 256 takes about 5 s (80 steps), so it stays off by default: set
``training.compile: true`` for long runs.
"""

from __future__ import annotations

import dataclasses

import torch

from platefocus.errors import InputError

#: Pairs per step on a CPU (the demo's budget) and on a GPU (measured, see module doc).
CPU_BATCH_SIZE, GPU_BATCH_SIZE = 16, 256
#: ``torch.compile`` on a GPU when ``compile: auto`` (off: see the module's notes).
GPU_COMPILE = False


def for_device(config, device: torch.device):
    """``config`` (a :class:`platefocus.train.loop.TrainConfig`) with ``batch_size`` and
    ``compile`` resolved for ``device`` where they are ``"auto"``; a bad value names its
    key."""
    batch, compile_ = config.batch_size, config.compile
    gpu = device.type == "cuda"
    if batch == "auto":
        batch = GPU_BATCH_SIZE if gpu else CPU_BATCH_SIZE
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise InputError("training.batch_size", f"must be an integer >= 1 or 'auto', got {batch!r}")
    if compile_ == "auto":
        compile_ = GPU_COMPILE and gpu
    if not isinstance(compile_, bool):
        raise InputError("training.compile", f"must be true, false or 'auto', got {compile_!r}")
    return dataclasses.replace(config, batch_size=batch, compile=compile_)
