"""CPU inference engines for restoration (``restore.backend``): eager PyTorch, ONNX Runtime
and OpenVINO on the same tiles, same network, one run, interleaved best-of timings.

The network is the demo's Restormer (levels 3, width 16, per-pixel LayerNorm): the
checkpoint given, else ``results/demo/models/restormer/checkpoint.pt`` when ``make demo``
has run, else that architecture with seeded random weights (the cost of a forward pass does
not depend on the weights). Tiles of 256 x 256, 4 per call, as ``restore`` runs them.

    python benchmarks/bench_backends.py [--checkpoint CKPT] [--tiles 16] [--threads 2]

Last line: ``restore_backend_speedup=`` (the fastest engine's tiles per second over eager
PyTorch's), ``onnxruntime_speedup=``, ``openvino_speedup=`` and ``max_difference=`` (the
largest difference from PyTorch's output, normalised units).
"""

from __future__ import annotations

import argparse

import torch
from _network import demo_network
from _timing import time_engines

from platefocus.restore.backends import with_backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="checkpoint or package to run")
    parser.add_argument("--tiles", type=int, default=16, help="tiles timed per call")
    parser.add_argument("--tile", type=int, default=256, help="tile side, pixels")
    parser.add_argument("--batch", type=int, default=4, help="tiles per model call")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads of each engine")
    parser.add_argument("--repeats", type=int, default=3, help="timing rounds")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, source = demo_network(args.checkpoint)
    tiles = torch.rand(
        args.tiles, 1, args.tile, args.tile, generator=torch.Generator().manual_seed(1)
    )
    engines = {"torch": model}
    for name in ("onnxruntime", "openvino"):
        try:
            engines[name] = with_backend(model, name, args.batch, torch.device("cpu"))
        except Exception as err:  # an engine not installed: say so, measure the others
            print(f"{name}: not measured ({err})")

    outputs, times = time_engines(engines, tiles, args.batch, args.repeats)
    mpix = args.tiles * args.tile**2 / 1e6
    print(f"network: {source}; {args.tiles} tiles of {args.tile} x {args.tile}, "
          f"{args.batch} per call, {args.threads} threads, best of {args.repeats}")  # fmt: skip
    head = ("engine", "Mpix/s", "speed-up", "max |diff|")
    print(f"{head[0]:<12} {head[1]:>8} {head[2]:>9} {head[3]:>11}")
    speedup, diff = {}, {}
    for (name, out), seconds in zip(outputs.items(), times, strict=True):
        speedup[name] = times[0] / seconds
        diff[name] = float((out - outputs["torch"]).abs().max())
        print(f"{name:<12} {mpix / seconds:>8.3f} {speedup[name]:>9.2f} {diff[name]:>11.2e}")
    others = {k: v for k, v in speedup.items() if k != "torch"}
    print(
        f"restore_backend_speedup={max(others.values(), default=1.0):.3f} "
        + " ".join(f"{k}_speedup={v:.3f}" for k, v in others.items())
        + f" max_difference={max(diff.values()):.2e}"
    )


if __name__ == "__main__":
    main()
