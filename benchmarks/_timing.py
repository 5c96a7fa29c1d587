"""Timing helper shared by the benchmarks."""

from __future__ import annotations

import time


def best_of(repeats: int, fn) -> float:
    """Shortest wall time of ``repeats`` calls (the machine is shared and noisy)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
