"""The two sliding-window tilers on the CPU: NumPy (``restore.inference.restore_planes``,
float64) against torch (``restore.device.restore_planes_on_device``, float32, what a GPU
runs), same planes, same tiles, same model, one run, interleaved best-of timings.

Two models: the demo Restormer (levels 3, width 16, per-pixel LayerNorm; the cost a user
pays) and an identity network (the tilers' own cost: padding, cutting, blending and the
normalisation). The torch tiler can replace the NumPy one on CPU only if it is at least as
fast with both.

    python benchmarks/bench_tiler.py [--side 512] [--planes 4] [--repeats 3]

Last line: ``torch_tiler_ratio=`` (NumPy time / torch time with the demo model; > 1: torch
faster), ``torch_tiler_ratio_identity=`` (the same with the identity network) and
``max_difference=`` (grey levels, both models).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _timing import best_of_interleaved

from platefocus.models import build_model
from platefocus.restore.device import restore_planes_on_device
from platefocus.restore.inference import restore_planes
from platefocus.restore.settings import RestoreConfig


class Identity(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=512, help="plane side, pixels")
    parser.add_argument("--planes", type=int, default=4, help="planes restored")
    parser.add_argument("--repeats", type=int, default=3, help="timing rounds")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    stack = (rng.random((args.planes + 2, args.side, args.side)) * 4000).astype(np.uint16)
    planes = list(range(args.planes))
    config = RestoreConfig(tile=256, overlap=32, batch_size=4)
    demo = build_model("restormer", levels=3, width=16, norm="layer").eval()
    rows, ratio = [], {}
    for name, model in (("demo restormer", demo), ("identity", Identity())):
        with torch.no_grad():
            a = restore_planes(model, stack, planes, config)
            b = restore_planes_on_device(model, stack, planes, config, "cpu")
            t_np, t_torch = best_of_interleaved(
                args.repeats,
                lambda m=model: restore_planes(m, stack, planes, config),
                lambda m=model: restore_planes_on_device(m, stack, planes, config, "cpu"),
            )
        mpix = args.planes * args.side**2 / 1e6
        diff = int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max())
        ratio[name] = t_np / t_torch
        rows.append((name, mpix / t_np, mpix / t_torch, ratio[name], diff))
    print(f"{args.planes} planes of {args.side} x {args.side}, tile 256, overlap 32, "
          f"{args.threads} torch threads, best of {args.repeats}")  # fmt: skip
    head = ("model", "NumPy Mpix/s", "torch Mpix/s", "NumPy/torch", "max diff")
    print(f"{head[0]:<16} {head[1]:>13} {head[2]:>13} {head[3]:>12} {head[4]:>9}")
    for name, a, b, r, d in rows:
        print(f"{name:<16} {a:>13.3f} {b:>13.3f} {r:>12.3f} {d:>9d}")
    print(
        f"torch_tiler_ratio={ratio['demo restormer']:.3f} "
        f"torch_tiler_ratio_identity={ratio['identity']:.3f} "
        f"max_difference={max(r[4] for r in rows)}"
    )


if __name__ == "__main__":
    main()
