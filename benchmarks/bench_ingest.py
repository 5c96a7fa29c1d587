"""Ingest speed against its physical floor: decoding the same TIFFs with tifffile alone.

Workload: BBBC006-geometry fields of the synthetic ``bbbc006`` preset (2 channels, 34
planes of 520 x 696 uint16), written as LZW-compressed TIFFs as BBBC006 ships them.
(a) every file read with ``tifffile.imread`` on ``--workers`` threads (decoding only);
(b) ``discover_planes`` + ``ingest_plate`` (header check, decode, OME-Zarr write with the
workflow's compression, pyramid and metadata) on the same number of threads. Best of
``--repeats`` rounds, each timing (a) then (b), so a slow spell of the shared machine
falls on both; rates are megapixels of raw planes per second.

    python benchmarks/bench_ingest.py [--wells 2] [--workers 2] [--repeats 3]

Last line: ``ingest_over_tifffile=<x> ingest_mpix_s=<y> tifffile_mpix_s=<z>``.
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

        def decode():
            with ThreadPoolExecutor(args.workers) as pool:
                list(pool.map(tifffile.imread, files))

        runs = iter(range(args.repeats))

        def ingest():
            found = discover_planes(DiscoveryConfig(root=raw / "images", layout="bbbc006"))
            ingest_plate(
                found,
                tmp / f"plate{next(runs)}.ome.zarr",
                Acquisition(0.65, 2.0),
                workers=args.workers,
                pyramid_levels=args.pyramid_levels,
                progress=False,
            )

        t_decode, t_ingest = best_of_interleaved(args.repeats, decode, ingest)
    print(
        f"ingest of {len(files)} LZW TIFF planes of 520 x 696 ({mpix:.1f} Mpix), "
        f"{args.workers} threads, best of {args.repeats}"
    )
    print(f"{'path':<40}{'seconds':>10}{'Mpix/s':>10}")
    print(f"{'(a) tifffile.imread alone (decode)':<40}{t_decode:>10.2f}{mpix / t_decode:>10.1f}")
    print(f"{'(b) platefocus ingest to OME-Zarr':<40}{t_ingest:>10.2f}{mpix / t_ingest:>10.1f}")
    print(
        f"ingest_over_tifffile={t_decode / t_ingest:.2f} ingest_mpix_s={mpix / t_ingest:.1f} "
        f"tifffile_mpix_s={mpix / t_decode:.1f}"
    )


if __name__ == "__main__":
    main()
