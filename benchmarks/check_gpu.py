"""Checks that need a GPU (run first by ``run_on_gpu.sh``; CPU tests cannot reach them):
the CUDA-graph forward equals the eager one, and a field restored with graphs equals one
restored without, pixel for pixel.

    python benchmarks/check_gpu.py

Last line: ``graphs_max_abs_diff=.. restored_max_abs_diff=..`` (0 expected: a graph
replays the very kernels the eager call launches).
"""

from __future__ import annotations

import numpy as np
import torch

from platefocus.models import build_model
from platefocus.restore.device import restore_planes_on_device
from platefocus.restore.graphs import GraphedForward
from platefocus.restore.settings import RestoreConfig


def main() -> None:
    device = torch.device("cuda")
    torch.manual_seed(0)
    model = build_model("restormer", levels=3, width=16, norm="layer")
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.02)
    model = model.to(device).eval()
    graphed = GraphedForward(model, bf16=True)
    worst = 0.0
    with torch.no_grad():
        for batch in (32, 7, 32):  # a full batch, a field's remainder, the full one again
            x = torch.rand(batch, 1, 160, 160, device=device)
            with torch.autocast("cuda", torch.bfloat16):
                eager = model(x).float()
            replayed = graphed(x).float().clone()
            diff = (eager - replayed).abs().max().item()
            worst = max(worst, diff)
            print(f"batch {batch:>3}: graph vs eager max |diff| {diff:.3g}")
    print(f"graphs captured: {len(graphed._graphs)}, eager fallbacks: {len(graphed._eager)}")
    rng = np.random.default_rng(0)
    stack = rng.integers(100, 4000, (5, 300, 420)).astype(np.uint16)
    config = RestoreConfig(tile=160, overlap=32, batch_size=16)
    plain = restore_planes_on_device(model, stack, [1, 3], config, device)
    with_graphs = restore_planes_on_device(graphed, stack, [1, 3], config, device)
    restored = np.abs(plain.astype(np.int64) - with_graphs.astype(np.int64)).max()
    print(f"restored planes, graphs vs eager: max |diff| {restored} (uint16 units)")
    print(f"graphs_max_abs_diff={worst:.3g} restored_max_abs_diff={restored}")


if __name__ == "__main__":
    main()
