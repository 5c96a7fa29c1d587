"""Ingest speed against its physical floor: decoding the same TIFFs with tifffile alone.

Workload: BBBC006-geometry fields of the synthetic ``bbbc006`` preset (2 channels, 34
planes of 520 x 696 uint16), written as LZW-compressed TIFFs as BBBC006 ships them.
(a) every file read with ``tifffile.imread`` on ``--workers`` threads (decoding only);
(b) ``discover_planes`` + ``ingest_plate`` (header check, decode, OME-Zarr write with the
workflow's compression, pyramid and metadata) on the same number of threads. Best of
``--repeats`` rounds, each timing (a) then (b), so a slow spell of the shared machine
falls on both; rates are megapixels of raw planes per second.

    python benchmarks/bench_ingest.py [--wells 2] [--workers 2] [--repeats 3]

(c) the integrity checks of (b) alone, over every field (input stamps, the damaged-chunk
check a rerun makes before skipping a field, the writer lock): a fresh ingest makes all but
the damaged-chunk check, so (c) / (b) bounds their cost from above.

(a) and (b) also run on one thread, in the same rounds: the parallel efficiency of the
decoding alone (the floor) and of the ingest, ``rate(n) / (n * rate(1))``.

Last line: ``ingest_over_tifffile=<x> ingest_mpix_s=<y> tifffile_mpix_s=<z>
integrity_fraction=<(c)/(b)> decode_efficiency_<n>=.. ingest_efficiency_<n>=..``.
"""

from __future__ import annotations

import argparse
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import tifffile
from _timing import best_of_interleaved

from platefocus.io.discover import DiscoveryConfig, discover_planes
from platefocus.io.ingest import ingest_plate
from platefocus.io.omezarr import Acquisition
from platefocus.synth import generate_plate, preset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wells", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pyramid-levels", type=int, default=2, help="ingest.pyramid_levels")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        spec = preset("bbbc006", name="bench", rows=1, columns=args.wells, sites=1, seed=0)
        raw = generate_plate(spec, tmp / "raw", workers=args.workers, progress=False)
        files = sorted((raw / "images").rglob("*.tif"))
        for path in files:
            tifffile.imwrite(path, tifffile.imread(path), compression="lzw")
        mpix = sum(tifffile.TiffFile(f).pages[0].size for f in files) / 1e6

        def decode(workers: int = args.workers):
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(tifffile.imread, files))

        runs = iter(range(4 * args.repeats))

        def ingest(workers: int = args.workers):
            found = discover_planes(DiscoveryConfig(root=raw / "images", layout="bbbc006"))
            ingest_plate(
                found,
                tmp / f"plate{next(runs)}.ome.zarr",
                Acquisition(0.65, 2.0),
                workers=workers,
                pyramid_levels=args.pyramid_levels,
                progress=False,
            )

        t_decode, t_ingest, t_decode_1, t_ingest_1 = best_of_interleaved(
            args.repeats, decode, ingest, lambda: decode(1), lambda: ingest(1)
        )
        t_checks = integrity_checks(raw / "images", tmp / "plate0.ome.zarr", args.repeats)
    print(
        f"ingest of {len(files)} LZW TIFF planes of 520 x 696 ({mpix:.1f} Mpix), "
        f"{args.workers} threads, best of {args.repeats}"
    )
    print(f"{'path':<40}{'seconds':>10}{'Mpix/s':>10}")
    print(f"{'(a) tifffile.imread alone (decode)':<40}{t_decode:>10.2f}{mpix / t_decode:>10.1f}")
    print(f"{'(b) platefocus ingest to OME-Zarr':<40}{t_ingest:>10.2f}{mpix / t_ingest:>10.1f}")
    print(f"{'(c) integrity checks of (b), all fields':<40}{t_checks:>10.3f}{'':>10}")
    n = args.workers
    decode_efficiency, ingest_efficiency = t_decode_1 / (n * t_decode), t_ingest_1 / (n * t_ingest)
    print(
        f"on 1 thread: (a) {mpix / t_decode_1:.1f} Mpix/s, (b) {mpix / t_ingest_1:.1f} Mpix/s; "
        f"parallel efficiency at {n}, rate({n}) / ({n} * rate(1)): (a) {decode_efficiency:.2f}, "
        f"(b) {ingest_efficiency:.2f}"
    )
    print(
        f"ingest_over_tifffile={t_decode / t_ingest:.2f} ingest_mpix_s={mpix / t_ingest:.1f} "
        f"tifffile_mpix_s={mpix / t_decode:.1f} integrity_fraction={t_checks / t_ingest:.4f} "
        f"decode_efficiency_{n}={decode_efficiency:.2f} "
        f"ingest_efficiency_{n}={ingest_efficiency:.2f}"
    )


def integrity_checks(images: Path, plate: Path, repeats: int) -> float:
    """Seconds (best of ``repeats``) of every integrity check an ingest can make, over
    all fields: the input files' stamps (size, modification time), the damaged-chunk
    check a rerun makes of each field it would skip, the output's writer lock."""
    import time

    from platefocus.io.ingest import field_stamp
    from platefocus.io.verify import damaged_chunks
    from platefocus.io.writer_lock import writer_lock

    found = discover_planes(DiscoveryConfig(root=images, layout="bbbc006"))
    fields = [part for _, part in found.groupby(["well", "site"])]
    paths = sorted({p.parent.relative_to(plate).as_posix() for p in plate.glob("*/*/*/zarr.json")})
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        with writer_lock(plate.with_name("checks.ome.zarr")):
            for part in fields:
                field_stamp("plate", part)
            for path in paths:
                damaged_chunks(plate, path)
        best = min(best, time.perf_counter() - start)
    return best


if __name__ == "__main__":
    main()
