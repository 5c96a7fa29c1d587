"""What keeps target selection from scaling with threads: each part of a field's work at 1
and 2 threads.

Workload: BBBC006-geometry fields of the synthetic ``bbbc006`` preset (34 planes of
520 x 696), ingested and focus-scored as the workflow does. The whole stage
(``select_plate_targets``, with the best planes) and each part of one field's work run on
one thread, two fields one after the other, and on two threads, one field each; best of
``--repeats`` rounds that take the two in turn. Efficiency is
``t(serial) / (2 * t(two threads))``: 1.0 when two threads do two fields in the time of
one.

Parts of one field, in the order ``select_field_targets`` runs them:

- ``read``: the target channel's (z, y, x) stack from the OME-Zarr plate;
- ``segment``: one best plane segmented (``segment_planes``, the default classic path);
- ``seeds``: scikit-image's ``peak_local_max`` on that plane smoothed, as the classic
  path's declumping picks its seeds (a part of ``segment``; its spacing of the maxima runs
  as Python code);
- ``curves``: the objects' focus curves over every plane (``stack_focus_curves``:
  gradient energy plane by plane, summed per object).

    python benchmarks/bench_targets_threads.py [--wells 8] [--repeats 3]

Last line: ``targets_efficiency_2=.. read_efficiency_2=.. segment_efficiency_2=..
seeds_efficiency_2=.. curves_efficiency_2=.. segment_share=..`` (``segment_share``:
the segmentations' part of a field's serial time in the whole stage; ``focus_efficiency_2``:
focus scoring of the same plate, its stage before, timed in the same rounds).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from bench_plate import REPO, with_defaults

from platefocus.focus.bestplane import BestPlaneConfig
from platefocus.focus.plate import plate_best_planes, score_plate, select_plate_targets
from platefocus.focus.targets import TargetConfig, stack_focus_curves
from platefocus.io.discover import DiscoveryConfig, discover_planes
from platefocus.io.fields import list_fields, read_field_channel
from platefocus.io.ingest import ingest_plate
from platefocus.io.omezarr import Acquisition
from platefocus.segment.nuclei import SegmentationConfig, with_diameter
from platefocus.segment.planes import segment_planes
from platefocus.synth import generate_plate, preset


def serial_and_threaded(work: Callable[[int], object], repeats: int) -> tuple[float, float]:
    """Best seconds of ``work(0); work(1)`` on this thread and of the two on two threads."""
    work(0), work(1)  # warm: imports, caches, allocator
    serial = threaded = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work(0)
        work(1)
        serial = min(serial, time.perf_counter() - start)
        threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        threaded = min(threaded, time.perf_counter() - start)
    return serial, threaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wells", type=int, default=8, help="fields of the whole stage")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    with_defaults(
        config, yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    )
    grid, channel = tuple(config["focus"]["grid"]), config["focus"]["target_channel"]
    segmentation = SegmentationConfig.from_config(config["segmentation"])
    targets = TargetConfig.from_config(config["targets"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        spec = preset("bbbc006", name="bench", rows=1, columns=args.wells, sites=1, seed=0)
        raw = generate_plate(spec, tmp / "raw", workers=2, progress=False)
        found = discover_planes(DiscoveryConfig(root=raw / "images", layout="bbbc006"))
        plate = tmp / "plate.ome.zarr"
        ingested = ingest_plate(found, plate, Acquisition(0.65, 2.0), workers=2, progress=False)
        manifest = ingested.manifest
        scores = score_plate(plate, manifest, grid, workers=2, progress=False)
        best = plate_best_planes(scores, BestPlaneConfig.from_config(config["focus"]))
        refs = list_fields(manifest)
        index = refs[0].channels.index(channel)
        stacks = [read_field_channel(plate, ref, index) for ref in refs[:2]]
        tiles = best[(best["channel"] == channel) & (best["region"] != "field")]
        planes = [
            ref.z_indices.index(int(tiles[tiles["well"] == ref.well]["best_z"].iloc[0]))
            for ref in refs[:2]
        ]
        labels = [
            segment_planes([s[k]], segmentation)[0] for s, k in zip(stacks, planes, strict=True)
        ]

        def whole(workers: int) -> None:
            select_plate_targets(
                plate,
                manifest,
                best,
                grid,
                channel,
                segmentation,
                targets,
                workers=workers,
                progress=False,
            )

        from scipy import ndimage
        from skimage.feature import peak_local_max

        smallest = with_diameter(segmentation, stacks[0][planes[0]]).diameter_px[0]
        landscapes = [
            ndimage.gaussian_filter(s[k].astype(float), smallest / 3.5)
            for s, k in zip(stacks, planes, strict=True)
        ]

        parts = {
            "read": lambda i: read_field_channel(plate, refs[i], index),
            "segment": lambda i: segment_planes([stacks[i][planes[i]]], segmentation),
            "seeds": lambda i: peak_local_max(
                landscapes[i],
                min_distance=int(smallest / 1.5),
                labels=labels[i],
                exclude_border=False,
            ),
            "curves": lambda i: stack_focus_curves(stacks[i], [labels[i]], targets.grow_px),
        }
        rows = {name: serial_and_threaded(work, args.repeats) for name, work in parts.items()}
        one = two = focus_one = focus_two = float("inf")
        for _ in range(args.repeats):  # the whole stages, 1 and 2 workers in turn
            start = time.perf_counter()
            whole(1)
            one = min(one, time.perf_counter() - start)
            start = time.perf_counter()
            whole(2)
            two = min(two, time.perf_counter() - start)
            start = time.perf_counter()
            score_plate(plate, manifest, grid, workers=1, progress=False)
            focus_one = min(focus_one, time.perf_counter() - start)
            start = time.perf_counter()
            score_plate(plate, manifest, grid, workers=2, progress=False)
            focus_two = min(focus_two, time.perf_counter() - start)
        n_segmented = sum(len(set(tiles[tiles["well"] == r.well]["best_z"])) for r in refs)
    field_seconds = one / len(refs)
    segment_share = rows["segment"][0] / 2 * n_segmented / len(refs) / field_seconds
    print(
        f"target selection, {len(refs)} fields of 34 x 520 x 696; parts: two fields, serial "
        f"then on two threads; best of {args.repeats}"
    )
    print(f"{'part':<34}{'serial, s':>11}{'2 threads, s':>14}{'efficiency':>12}")
    print(f"{'whole stage (1 vs 2 workers)':<34}{one:>11.3f}{two:>14.3f}{one / two / 2:>12.2f}")
    focus = focus_one / focus_two / 2
    print(f"{'focus scoring, both channels':<34}{focus_one:>11.3f}{focus_two:>14.3f}{focus:>12.2f}")
    for name, (serial, threaded) in rows.items():
        print(f"{name:<34}{serial:>11.3f}{threaded:>14.3f}{serial / threaded / 2:>12.2f}")
    print(
        f"one field at 1 worker: {field_seconds:.3f} s, of which segmentation "
        f"{segment_share:.0%} ({n_segmented / len(refs):.1f} best planes per field)"
    )
    keys = " ".join(f"{name}_efficiency_2={s / t / 2:.2f}" for name, (s, t) in rows.items())
    print(
        f"targets_efficiency_2={one / two / 2:.2f} {keys} segment_share={segment_share:.2f} "
        f"focus_efficiency_2={focus:.2f}"
    )


if __name__ == "__main__":
    main()
