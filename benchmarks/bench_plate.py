"""Plate throughput: every stage timed on a BBBC006-geometry plate of a few wells, and
the projection to the full 384-well plate on this machine.

Workload: the synthetic ``bbbc006`` preset (2 channels, 34 planes of 520 x 696 uint16,
written as LZW TIFFs as BBBC006 ships them), ``--wells`` wells x ``--sites`` sites. Each
stage runs the library function its Snakemake rule runs, in this process, with the
workflow's default settings (``config/config.yaml``), and is timed alone, with its peak
resident memory (sampled every 20 ms):

  ingest      discover + check + write OME-Zarr (both channels, every plane)
  focus       focus metrics of every plane, whole field and 2 x 2 tiles (both channels)
  targets     best planes + segmentation of target tiles (target channel)
  dataset     (defocused, best) pairs cut and written (target channel)
  train_epoch one training epoch of the default Restormer (fixed cost, not per pixel)
  restore     every plane of every field restored (target channel)
  segment     raw / restored / best plane segmented and compared (target channel)
  report      the focus figures (the other figures are drawn from small tables)

Rates are megapixels of the stage's input per second; the projection multiplies each
per-pixel stage by the full plate's pixels (768 fields x 34 planes x 0.36 Mpix, per
channel the stage reads) and adds ``--epochs`` training epochs. The bottleneck is the
stage with the largest projected time.

    python benchmarks/bench_plate.py [--wells 2] [--sites 1] [--device auto] [--workers 2]
        [--backend torch|onnxruntime|openvino] [--cpu-bf16] [--scaling] [--repeats 1]

A run of ``n`` workers is a job of ``n`` threads as Snakemake runs it: ``n`` Dask
threads and ``n`` intra-op threads in torch and the ONNX engines (Snakemake sets
``OMP_NUM_THREADS`` to a job's threads, and torch takes its default from it).
``--scaling`` runs every stage at 1 worker and at each power of two up to ``--workers``
and reports, per stage, the rate at each and the parallel efficiency
``rate(n) / (n * rate(1))``; the projection is the run with the most workers. Stages are
per-field Dask tasks: give at least as many fields (``--wells x --sites``) as workers, or
the extra workers have nothing to do. ``--repeats r`` runs ``r`` rounds, the worker counts
in turn within each, and keeps each stage's fastest round: on shared cores one run of a
stage moves by a quarter, which a single round puts into its efficiency.

Last line: ``ingest_mpix_s=.. focus_mpix_s=.. targets_mpix_s=.. restore_mpix_s=..
segment_mpix_s=.. full_plate_hours=.. bottleneck=..`` (with ``--scaling`` also
``<stage>_efficiency_<n>=`` for each stage and worker count above 1).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
import tifffile
import yaml

REPO = Path(__file__).resolve().parents[1]
FULL_FIELDS = 384 * 2
PLANES, HEIGHT, WIDTH, CHANNELS = 34, 520, 696, 2


class PeakMemory:
    """Peak resident memory (this process and its children) while the block runs, MiB."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            rss = me.memory_info().rss + sum(
                c.memory_info().rss for c in me.children(recursive=True)
            )
            self.peak = max(self.peak, rss)
            time.sleep(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def timed(rows: list, stage: str, mpix: float | None, full_mpix: float | None, fn):
    """Run ``fn`` once; record seconds, Mpix/s, peak MiB and the full-plate projection."""
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t0
    rate = mpix / seconds if mpix else None
    rows.append(
        {
            "stage": stage,
            "seconds": seconds,
            "mpix": mpix,
            "mpix_s": rate,
            "peak_mib": mem.peak / 2**20,
            "full_plate_h": (full_mpix / rate / 3600) if rate else None,
        }
    )
    shown = f"{rate:8.2f} Mpix/s" if rate else " " * 15
    print(f"  {stage:<12}{seconds:8.1f} s {shown} {mem.peak / 2**20:8.0f} MiB", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wells", type=int, default=2)
    parser.add_argument("--sites", type=int, default=1)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=20, help="training epochs projected")
    parser.add_argument("--batch", default=None, help="restore tiles per call, or auto")
    parser.add_argument(
        "--backend", default=None, help="restore.backend: torch, onnxruntime or openvino"
    )
    parser.add_argument(
        "--cpu-bf16", action="store_true", help="restore.cpu_bf16: bfloat16 on a CPU"
    )
    parser.add_argument(
        "--scaling", action="store_true", help="every stage at 1, 2, 4.. workers too"
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="rounds; each stage's fastest is kept"
    )
    args = parser.parse_args()
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    with_defaults(config, schema)
    counts = [args.workers]
    if args.scaling:
        counts = [n for n in (1, 2, 4, 8, 16, 32, 64) if n < args.workers] + [args.workers]
    runs: dict[int, list[dict]] = {}
    for _ in range(args.repeats):  # rounds take the worker counts in turn
        for n in counts:
            with tempfile.TemporaryDirectory() as tmp:
                rows = run_stages(
                    Path(tmp), argparse.Namespace(**{**vars(args), "workers": n}), config
                )
            if n in runs:  # each stage's fastest round
                pairs = zip(runs[n], rows, strict=True)
                rows = [min(a, b, key=lambda r: r["seconds"]) for a, b in pairs]
            runs[n] = rows
    if args.scaling:  # what the cores give dense arithmetic, the reference for restore
        for n in counts:
            runs[n].append({"stage": "dense_matmul", "mpix_s": dense_rate(n)})
    report(runs[args.workers], args, runs if args.scaling else None)


def dense_rate(workers: int, seconds: float = 4.0) -> float:
    """GFLOP/s of float32 1024 x 1024 matrix products in ``workers`` threads, one torch
    thread each: the ceiling this machine puts on parallel dense arithmetic (the restore
    network's kind of work), measured beside the stages. Cores that share a physical core
    or memory bandwidth show here as an efficiency below 1."""
    import torch

    before = torch.get_num_threads()
    a = torch.rand(1024, 1024)
    done = [0] * workers

    def work(i: int) -> None:
        torch.set_num_threads(1)  # a per-thread setting (see platefocus.parallel)
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            torch.mm(a, a)
            done[i] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    torch.set_num_threads(before)
    return sum(done) * 2 * 1024**3 / 1e9 / (time.perf_counter() - t0)


def with_defaults(config: dict, schema: dict) -> None:
    """Fill the schema's defaults into ``config`` in place (what the Snakefile's
    validation does; here without Snakemake, which the GPU machine lacks)."""
    for key, sub in schema.get("properties", {}).items():
        if key not in config and "default" in sub:
            config[key] = sub["default"]
        if isinstance(config.get(key), dict) and sub.get("type") == "object":
            with_defaults(config[key], sub)


def run_stages(tmp: Path, args, config: dict) -> list[dict]:
    import torch

    from platefocus.compare.segmentation import compare_plate
    from platefocus.dataset.pairs import DatasetConfig, build_dataset
    from platefocus.focus.bestplane import BestPlaneConfig
    from platefocus.focus.plate import plate_best_planes, score_plate, select_plate_targets
    from platefocus.focus.targets import TargetConfig
    from platefocus.io.discover import DiscoveryConfig, discover_planes
    from platefocus.io.ingest import ingest_plate
    from platefocus.io.omezarr import Acquisition
    from platefocus.io.pairs import read_pair_info
    from platefocus.model_io.checkpoint import choose_device
    from platefocus.report import focus as figures
    from platefocus.report.style import save_figure
    from platefocus.restore.planes import PlaneSelection
    from platefocus.restore.plate import restore_plate, restoring_model
    from platefocus.restore.settings import RestoreConfig
    from platefocus.restore.tiling import plan_tiles
    from platefocus.segment.nuclei import SegmentationConfig
    from platefocus.synth import generate_plate, preset
    from platefocus.train.loop import TrainConfig, train

    device = str(choose_device(args.device))
    torch.set_num_threads(max(1, args.workers))  # a job of `workers` threads, as above
    columns = args.wells
    spec = preset("bbbc006", name="bench", rows=1, columns=columns, sites=args.sites, seed=0)
    print(
        f"plate: {args.wells} wells x {args.sites} sites x {CHANNELS} channels x {PLANES} "
        f"planes of {HEIGHT} x {WIDTH}; device {device}; {args.workers} workers; "
        f"{os.cpu_count()} CPUs"
    )
    t0 = time.perf_counter()
    raw = generate_plate(spec, tmp / "raw", workers=args.workers, progress=False)
    for path in (raw / "images").rglob("*.tif"):  # as BBBC006 ships them
        tifffile.imwrite(path, tifffile.imread(path), compression="lzw")
    print(f"  (synthesis and LZW compression {time.perf_counter() - t0:.0f} s, not counted)")
    fields = args.wells * args.sites
    plane_mpix = HEIGHT * WIDTH / 1e6
    field_mpix = PLANES * plane_mpix
    full_mpix = FULL_FIELDS * field_mpix
    rows: list[dict] = []
    acquisition = Acquisition(0.65, 2.0)
    channel = config["focus"]["target_channel"]
    plate = tmp / "plate.ome.zarr"

    def ingest():
        found = discover_planes(
            DiscoveryConfig.from_config({"root": str(raw / "images"), "layout": "bbbc006"}, None)
        )
        return ingest_plate(found, plate, acquisition, workers=args.workers, progress=False)

    manifest = timed(
        rows, "ingest", fields * field_mpix * CHANNELS, full_mpix * CHANNELS, ingest
    ).manifest
    grid = tuple(config["focus"]["grid"])
    scores = timed(
        rows,
        "focus",
        fields * field_mpix * CHANNELS,
        full_mpix * CHANNELS,
        lambda: score_plate(plate, manifest, grid, workers=args.workers, progress=False),
    )
    segmentation = SegmentationConfig.from_config(config["segmentation"])

    def targets():
        best = plate_best_planes(scores, BestPlaneConfig.from_config(config["focus"]))
        kept = select_plate_targets(
            plate,
            manifest,
            best,
            grid,
            channel,
            segmentation,
            TargetConfig.from_config(config["targets"]),
            workers=args.workers,
            progress=False,
        )
        return best, kept

    best, kept = timed(rows, "targets", fields * field_mpix, full_mpix, targets)
    dataset = DatasetConfig.from_config(config["dataset"], grid, channel)
    pairs = timed(
        rows,
        "dataset",
        None,
        None,
        lambda: build_dataset(plate, manifest, kept, dataset, tmp / "pairs.zarr", progress=False),
    )
    training = {**config["training"], "epochs": 1, "device": args.device}
    train_config = TrainConfig.from_config(training, "restormer", threads=os.cpu_count() or 1)
    timed(
        rows,
        "train_epoch",
        None,
        None,
        lambda: train(
            tmp / "pairs.zarr",
            pairs,
            train_config,
            tmp / "work",
            dataset_info=read_pair_info(tmp / "pairs.zarr"),
            progress=False,
        ),
    )
    restore = dict(config["restore"])
    if args.batch:
        restore["batch_size"] = args.batch if args.batch == "auto" else int(args.batch)
    if args.backend:
        restore["backend"] = args.backend
    if args.cpu_bf16:
        restore["cpu_bf16"] = True
    restore_config = RestoreConfig.from_config(restore, config["dataset"]["percentiles"])
    restored = tmp / "restored.ome.zarr"
    # One-off per process (model load, compile, the batch-size probe, an engine's ONNX
    # export): its own row, once for the whole plate, so the restore rate is the rate the
    # plate's fields get.
    per_plane = len(plan_tiles((HEIGHT, WIDTH), restore_config.tile, restore_config.overlap).starts)

    def setup():
        model, info, resolved = restoring_model(
            str(tmp / "work" / "best.pt"), device, restore_config, per_plane * PLANES
        )
        channels = 1 + 2 * info.context_planes
        tile = restore_config.tile
        with torch.no_grad():  # an engine exports at its first batch of this shape
            model(torch.zeros(resolved.batch_size, channels, tile, tile, device=device))

    timed(rows, "restore_setup", None, None, setup)
    rows[-1]["full_plate_h"] = rows[-1]["seconds"] / 3600
    timed(
        rows,
        "restore",
        fields * field_mpix,
        full_mpix,
        lambda: restore_plate(
            plate,
            manifest,
            tmp / "work" / "best.pt",
            restored,
            PlaneSelection(mode="all"),
            restore_config,
            acquisition,
            best=best,
            channel=channel,
            device=args.device,
            workers=args.workers,
            progress=False,
        ),
    )
    # raw, restored and best plane of every plane of every field are segmented
    timed(
        rows,
        "segment",
        fields * field_mpix * 2,
        full_mpix * 2,
        lambda: compare_plate(
            plate,
            restored,
            manifest,
            best,
            segmentation,
            channel=channel,
            workers=args.workers,
            progress=False,
        ),
    )

    def draw():
        save_figure(figures.focus_curves(scores, best, config["focus"]["metric"]), tmp / "c.png")
        save_figure(figures.plate_heatmaps(best, kept), tmp / "h.png")

    timed(rows, "report", None, None, draw)
    for row in rows:
        if row["stage"] == "train_epoch":
            row["full_plate_h"] = row["seconds"] * args.epochs / 3600
    return rows


def scaling_table(runs: dict[int, list[dict]]) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per stage, the rate at each worker count and ``rate(n) / (n * rate(1))``."""
    rates = {
        n: {r["stage"]: r["mpix_s"] for r in rows if r["mpix_s"] is not None}
        for n, rows in runs.items()
    }
    one = rates[min(runs)]
    table, keys = [], {}
    for stage in one:
        row = {"stage": stage}
        for n in sorted(runs):
            row[f"mpix_s_{n}"] = rates[n][stage]
            if n > 1:
                row[f"efficiency_{n}"] = rates[n][stage] / (n * one[stage])
                keys[f"{stage}_efficiency_{n}"] = row[f"efficiency_{n}"]
        table.append(row)
    return pd.DataFrame(table), keys


def report(rows: list[dict], args, runs: dict[int, list[dict]] | None = None) -> None:
    table = pd.DataFrame([r for r in rows if r["stage"] != "dense_matmul"])  # not a stage
    print()
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}", na_rep="-"))
    total = table["full_plate_h"].sum()
    bottleneck = table.loc[table["full_plate_h"].idxmax(), "stage"]
    print(
        f"\nfull BBBC006 plate (384 wells x 2 sites, 2 channels, 34 planes; restore and "
        f"segmentation of one channel; {args.epochs} training epochs) on this machine: "
        f"{total:.1f} h, bottleneck {bottleneck}"
    )
    rate = dict(zip(table["stage"], table["mpix_s"], strict=True))
    efficiency = ""
    if runs:
        scaling, keys = scaling_table(runs)
        print(
            "\nparallel efficiency, rate(n) / (n * rate(1)) (dense_matmul: GFLOP/s of "
            "float32 matrix products, the machine's own ceiling):"
        )
        print(scaling.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        efficiency = " " + " ".join(f"{k}={v:.2f}" for k, v in keys.items())
    print(
        f"ingest_mpix_s={rate['ingest']:.2f} focus_mpix_s={rate['focus']:.2f} "
        f"targets_mpix_s={rate['targets']:.2f} restore_mpix_s={rate['restore']:.3f} "
        f"segment_mpix_s={rate['segment']:.2f} full_plate_hours={total:.1f} "
        f"bottleneck={bottleneck}{efficiency}"
    )


if __name__ == "__main__":
    main()
