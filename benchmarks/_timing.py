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
