"""Tiles per model call on a CPU (``restore.batch_size``, ``CPU_BATCH``): the rate of the
demo's network at each batch size as a restore job runs it, one run.

A restore job of ``n`` threads runs ``n`` Dask worker threads of one intra-op thread each
(:func:`platefocus.parallel.compute`). So each batch size is timed with ``--workers``
Python threads at once, each running the network on its own tiles with torch set to one
thread; batch sizes are interleaved, best of ``--repeats``. The network's output per tile
does not depend on the batch size (checked: the largest difference is printed).

    python benchmarks/bench_cpu_batch.py [--checkpoint CKPT] [--tile 160] [--workers 2]

The network: the checkpoint given, else ``make demo``'s Restormer, else that architecture
with seeded random weights (the cost of a forward does not depend on the weights).

Last line: ``fastest_cpu_batch=`` and ``batch_<b>_over_batch_4=`` for each batch size
(tiles per second at ``b`` over those at 4, the earlier default).
"""

from __future__ import annotations

import argparse
import threading
import time

import torch
from _network import demo_network

BATCHES = (1, 2, 4, 8)


def _rate(model: torch.nn.Module, batch: int, workers: int, tiles: int, tile: int) -> float:
    """Tiles per second of ``workers`` threads, each running ``tiles`` tiles."""
    start = threading.Barrier(workers + 1)

    def work() -> None:
        torch.set_num_threads(1)
        x = torch.rand(batch, 1, tile, tile, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            model(x)  # warm-up
            start.wait()
            for _ in range(tiles // batch):
                model(x)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return workers * (tiles // batch) * batch / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--tile", type=int, default=160, help="tile side, pixels (the demo's)")
    parser.add_argument("--workers", type=int, default=2, help="worker threads (job threads)")
    parser.add_argument("--tiles", type=int, default=16, help="tiles per worker per round")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    model, source = demo_network(args.checkpoint)
    x = torch.rand(8, 1, args.tile, args.tile, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        whole = model(x)
        single = torch.cat([model(x[i : i + 1]) for i in range(len(x))])
    difference = float((whole - single).abs().max())
    best = {b: 0.0 for b in BATCHES}
    for _ in range(args.repeats):
        for b in BATCHES:
            best[b] = max(best[b], _rate(model, b, args.workers, args.tiles, args.tile))
    print(f"network: {source}; tiles of {args.tile} x {args.tile}; {args.workers} worker "
          f"threads of 1 torch thread each; best of {args.repeats}")  # fmt: skip
    print(f"{'batch':>5} {'tiles/s':>8} {'Mpix/s':>7} {'vs 4':>6}")
    for b, rate in best.items():
        print(f"{b:>5} {rate:>8.2f} {rate * args.tile**2 / 1e6:>7.3f} {rate / best[4]:>6.2f}")
    print(f"largest difference, batch of 8 against one at a time: {difference:.2e}")
    fastest = max(best, key=best.get)
    print(
        f"fastest_cpu_batch={fastest} "
        + " ".join(f"batch_{b}_over_batch_4={best[b] / best[4]:.2f}" for b in BATCHES if b != 4)
    )


if __name__ == "__main__":
    main()
