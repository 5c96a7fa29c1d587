"""bfloat16 on a CPU (``restore.cpu_bf16``): speed and held-out PSNR against float32, same
network, same tiles, one run.

Engines: eager PyTorch in float32 and under bfloat16 autocast, and OpenVINO in float32 and
bfloat16 (when installed; ONNX Runtime runs float32 only). Speed: tiles of ``--tile``
pixels, ``--batch`` per call, interleaved best-of timings. Quality: mean PSNR of the
network's output against the in-focus target over the held-out (test) pairs of the
training dataset, as ``evaluate_model`` computes it (data range 1 on the normalised
scale); the change is bfloat16's PSNR minus float32's of the same engine, dB. The issue's
rule: bfloat16 only where the change stays within 0.05 dB.

    python benchmarks/bench_precision.py [--checkpoint CKPT] [--dataset DIR] [--threads 2]

``--dataset`` is a folder with ``pairs.zarr`` and ``pairs.parquet`` (the pairs the
checkpoint was trained and held out on); defaults: ``make demo``'s Restormer and dataset.

Last line: ``bf16_speedup=`` (the faster bfloat16 engine over eager float32),
``torch_bf16_speedup=``, ``torch_bf16_psnr_change_db=``, and the same for OpenVINO when
installed, ``max_abs_psnr_change_db=`` (the larger of the engines' changes).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _network import DEMO, DEMO_CHECKPOINT
from _timing import time_engines

from platefocus.errors import InputError
from platefocus.restore.backends import with_backend
from platefocus.train.evaluate import evaluate_split


class Autocast(torch.nn.Module):
    """``model`` under bfloat16 autocast on the CPU, float32 out (what ``run_batches``
    does with ``restore.cpu_bf16``)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return self.model(x).float()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(DEMO_CHECKPOINT))
    parser.add_argument("--dataset", default=str(DEMO / "dataset"), help="pairs.zarr + .parquet")
    parser.add_argument("--tiles", type=int, default=16, help="tiles timed per call")
    parser.add_argument("--tile", type=int, default=160, help="tile side, pixels (the demo's)")
    parser.add_argument("--batch", type=int, default=4, help="tiles per model call")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads of each engine")
    parser.add_argument("--repeats", type=int, default=3, help="timing rounds")
    args = parser.parse_args()
    from platefocus.model_io import load_model

    for path in (args.checkpoint, Path(args.dataset) / "pairs.parquet"):
        if not Path(path).exists():
            raise SystemExit(f"{path}: not found (run `make demo`, or give --checkpoint/--dataset)")
    torch.set_num_threads(args.threads)
    model = load_model(args.checkpoint)[0].eval()
    engines = {"torch": model, "torch_bf16": Autocast(model)}
    for bf16 in (False, True):
        name = "openvino_bf16" if bf16 else "openvino"
        try:
            engines[name] = with_backend(model, "openvino", args.batch, torch.device("cpu"), bf16)
        except InputError as err:  # not installed: say so, measure the others
            print(f"{name}: not measured ({err})")

    table = pd.read_parquet(Path(args.dataset) / "pairs.parquet")
    zarr_path = Path(args.dataset) / "pairs.zarr"
    psnr = {
        name: float(evaluate_split(e, zarr_path, table, batch_size=args.batch)["psnr_pred"].mean())
        for name, e in engines.items()
    }
    n_pairs = int((table["split"] == "test").sum())

    tiles = torch.rand(
        args.tiles, 1, args.tile, args.tile, generator=torch.Generator().manual_seed(1)
    )

    outputs, times = time_engines(engines, tiles, args.batch, args.repeats)
    mpix = args.tiles * args.tile**2 / 1e6
    print(
        f"network: {args.checkpoint}; {args.tiles} tiles of {args.tile} x {args.tile}, "
        f"{args.batch} per call, {args.threads} threads, best of {args.repeats}; "
        f"PSNR: mean over the {n_pairs} held-out pairs of {args.dataset}"
    )
    head = ("engine", "Mpix/s", "speed-up", "max |diff|", "PSNR dB", "change dB")
    print(f"{head[0]:<14} {head[1]:>8} {head[2]:>9} {head[3]:>11} {head[4]:>8} {head[5]:>10}")
    speedup, change = {}, {}
    for (name, out), seconds in zip(outputs.items(), times, strict=True):
        speedup[name] = times[0] / seconds
        float32 = name.removesuffix("_bf16")
        change[name] = psnr[name] - psnr[float32]
        diff = float((out - outputs[float32]).abs().max())
        print(
            f"{name:<14} {mpix / seconds:>8.3f} {speedup[name]:>9.2f} {diff:>11.2e} "
            f"{psnr[name]:>8.3f} {change[name]:>+10.4f}"
        )
    bf16 = [k for k in engines if k.endswith("_bf16")]
    print(
        f"bf16_speedup={max(speedup[k] for k in bf16):.3f} "
        + " ".join(
            f"{k}_speedup={speedup[k]:.3f} {k}_psnr_change_db={change[k]:+.4f}" for k in bf16
        )
        + f" max_abs_psnr_change_db={max(abs(change[k]) for k in bf16):.4f}"
    )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
