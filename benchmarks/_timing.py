"""Timing helper shared by the benchmarks."""

from __future__ import annotations

import time


def best_of(repeats: int, fn) -> float:
    """Shortest wall time of ``repeats`` calls (the machine is shared and noisy)."""
    return best_of_interleaved(repeats, fn)[0]


def best_of_interleaved(repeats: int, *fns) -> list[float]:
    """Shortest wall time of each of ``fns`` over ``repeats`` rounds that call them in
    turn, so a slow spell of the shared machine hits every path, not one of them."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def time_engines(engines: dict, tiles, batch: int, repeats: int) -> tuple[dict, list[float]]:
    """Each engine (a callable ``(B, C, T, T)`` tensor -> ``(B, 1, T, T)``) over ``tiles``,
    ``batch`` per call: its output (the first call, also the warm-up: exports, compiles)
    and its best wall time of ``repeats`` interleaved rounds, in the engines' order."""
    import torch

    def run(engine):
        with torch.no_grad():
            return torch.cat([engine(tiles[i : i + batch]) for i in range(0, len(tiles), batch)])

    outputs = {name: run(engine) for name, engine in engines.items()}
    times = best_of_interleaved(repeats, *[lambda e=e: run(e) for e in engines.values()])
    return outputs, times
