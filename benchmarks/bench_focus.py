"""Throughput of the vectorised focus metrics against a straightforward per-image loop.

Workload: one field of the BBBC006 geometry (34 planes of 520 x 696, uint16) from the
synthetic generator, scored for the whole plane and a 2 x 2 tile grid with all six
metrics. The loop computes the same numbers one plane, one region and one metric at a
time with plain NumPy/SciPy (``platefocus.focus.reference``); both are timed in the same
run (best of ``--repeats``), and their results are checked to agree.

    python benchmarks/bench_focus.py [--planes 34] [--repeats 3] [--all-cores]

Both run on one core (the process pins itself to its first allowed CPU unless
``--all-cores``): the issue's figure is per core, and fields run in parallel on top.

Last line: ``speedup_vs_loop=<x> mpix_per_s=<y>`` (y: the vectorised path).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

from platefocus.focus.metrics import METRICS, score_stack, tile_grid
from platefocus.focus.reference import REFERENCE
from platefocus.synth import generate_plate, preset


def make_stack(planes: int) -> np.ndarray:
    spec = preset(
        "bbbc006", rows=1, columns=1, sites=1, channels=1, planes=planes, best_plane=planes // 2
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = generate_plate(spec, Path(tmp) / "p", progress=False)
        files = sorted((out / "images").rglob("*.tif"), key=lambda f: f.parent.name)
        return np.stack([tifffile.imread(f) for f in files])


def loop_scores(stack: np.ndarray, grid=(2, 2), window: int = 20) -> dict[str, np.ndarray]:
    h, w = stack.shape[1:]
    regions = [(slice(0, h), slice(0, w))] + [(t.y, t.x) for t in tile_grid(h, w, grid)]
    out = {m: np.zeros((len(stack), len(regions))) for m in METRICS}
    for k, plane in enumerate(stack):
        for r, (ys, xs) in enumerate(regions):
            sub = plane[ys, xs]
            for m in METRICS:
                fn = REFERENCE[m]
                out[m][k, r] = fn(sub, window) if m == "local_focus_score" else fn(sub)
    return out


def best_time(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--planes", type=int, default=34)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--all-cores", action="store_true", help="do not pin to one core")
    args = parser.parse_args()
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    stack = make_stack(args.planes)
    mpix = stack.size / 1e6
    score_stack(stack[:2], (2, 2))  # compile the kernel (cached on disk) outside the timing
    t_vec, vec = best_time(lambda: score_stack(stack, (2, 2)), args.repeats)
    t_loop, ref = best_time(lambda: loop_scores(stack), args.repeats)

    # Gradient metrics of tiles differ by design: the vectorised path restricts the
    # whole-plane derivative maps to a tile, the loop filters the cut-out tile with its
    # own borders; compare those on the whole plane only.
    worst = 0.0
    for m in METRICS:
        a, b = vec[m], ref[m]
        if m in ("laplacian_variance", "tenengrad", "brenner"):
            a, b = a[:, :1], b[:, :1]
        rel = np.abs(a - b) / np.maximum(np.abs(b), 1e-12)
        worst = max(worst, float(rel.max()))

    print(
        f"focus metrics, {len(stack)} planes of {stack.shape[1]} x {stack.shape[2]} "
        f"({mpix:.1f} Mpix), whole plane + 2x2 tiles, 6 metrics"
    )
    print(f"{'method':<28}{'seconds':>10}{'Mpix/s':>10}")
    print(f"{'per-image NumPy/SciPy loop':<28}{t_loop:>10.3f}{mpix / t_loop:>10.2f}")
    print(f"{'vectorised (platefocus)':<28}{t_vec:>10.3f}{mpix / t_vec:>10.2f}")
    print(f"largest relative difference between the two: {worst:.2e}")
    print(f"speedup_vs_loop={t_loop / t_vec:.2f} mpix_per_s={mpix / t_vec:.2f}")


if __name__ == "__main__":
    main()
