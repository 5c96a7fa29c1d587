"""The network the CPU inference benchmarks run: the checkpoint given, else ``make demo``'s
Restormer, else that architecture with seeded random weights (the cost of a forward pass
does not depend on the weights)."""

from __future__ import annotations

from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
#: ``make demo``'s trained Restormer and the dataset it was trained and held out on.
DEMO = REPO / "results" / "demo"
DEMO_CHECKPOINT = DEMO / "models" / "restormer" / "checkpoint.pt"


def demo_network(checkpoint: str | None) -> tuple[torch.nn.Module, str]:
    """``(network in eval mode, where it came from)``."""
    from platefocus.model_io import load_model
    from platefocus.models import build_model

    path = checkpoint or (DEMO_CHECKPOINT if DEMO_CHECKPOINT.exists() else None)
    if path is not None:
        return load_model(path)[0].eval(), str(path)
    torch.manual_seed(0)
    model = build_model("restormer", spatial_dims=2, in_channels=1, levels=3, width=16)
    with torch.no_grad():
        for p in model.parameters():  # a residual network starts as the identity
            p.add_(torch.randn_like(p) * 0.05)
    return model.eval(), "random weights"
