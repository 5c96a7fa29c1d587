"""Restoration speed: bare model, MONAI sliding window, and this pipeline end to end.

One run, one model (the default Restormer architecture), the same images:
(a) the bare model forward on the pipeline's tiles, pre-cut and batched in memory;
(b) MONAI ``sliding_window_inference`` on the normalised planes in memory (same tile,
    overlap and batch size, Gaussian blending);
(c) ``restore_plate`` from the ingested OME-Zarr plate to a new one (reading, normalising,
    tiling, batching, blending, writing).
Rates are megapixels of restored image per second (tile overlap is overhead, not output).

    python benchmarks/bench_restore.py [--wells 4] [--size 256] [--planes 5] [--restore 1,3|all]
        [--tile 160] [--batch 16|auto] [--workers 2] [--compile] [--channels-last]
        [--prefetch auto|true|false] [--cuda-graphs auto|true|false] [--device auto]

On a GPU the bare forward is timed as the pipeline runs the model: replayed as CUDA graphs
when ``--cuda-graphs`` (default auto: on) is on, and also eagerly, for reference. The
pipeline's own account of where its inference thread waited (for reads, for writes) is
printed after the table.

(d) the integrity checks of (c) alone (input field stamps, the damaged-chunk check a rerun
makes of a field it would skip, the writer lock), over every field: an upper bound of
their cost, as ``integrity_fraction`` = (d) / (c).

Last line: ``e2e_vs_bare=<x> e2e_vs_sliding_window=<y> integrity_fraction=<z>`` (and,
with CUDA graphs on a GPU, ``eager_e2e_vs_eager_bare=<w>``: the pipeline and the forward
both without them).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from _plates import ingested_plate
from _timing import best_of

from platefocus.io.fields import field_array, list_fields
from platefocus.io.omezarr import Acquisition
from platefocus.model_io.checkpoint import choose_device
from platefocus.models import build_model
from platefocus.restore import PlaneSelection, restore_plate
from platefocus.restore.batching import choose_batch_size, prepare_model
from platefocus.restore.graphs import with_cuda_graphs
from platefocus.restore.inference import run_batches
from platefocus.restore.settings import RestoreConfig
from platefocus.restore.tiling import cut_tiles, pad_plane, plan_tiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wells", type=int, default=4)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--planes", type=int, default=5, help="planes per stack")
    parser.add_argument("--restore", default="1,3", help="planes restored, or all")
    parser.add_argument("--tile", type=int, default=160)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument("--batch", default="16", help="tiles per call, or auto")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=2, help="fields restored at once")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument(
        "--prefetch", default="auto", choices=("auto", "true", "false"), help="restore.prefetch"
    )
    parser.add_argument(
        "--cuda-graphs",
        default="auto",
        choices=("auto", "true", "false"),
        help="restore.cuda_graphs",
    )
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("platefocus.restore.plate").setLevel(logging.INFO)
    args.batch = args.batch if args.batch == "auto" else int(args.batch)
    device = choose_device(args.device)
    torch.manual_seed(0)
    model = build_model("restormer", levels=3, width=16, norm="layer")
    for p in model.parameters():  # leave the identity initialisation: real work per pixel
        torch.nn.init.normal_(p, std=0.02)
    model = model.to(device).eval()
    planes = (
        tuple(range(args.planes))
        if args.restore == "all"
        else tuple(int(k) for k in args.restore.split(","))
    )

    with tempfile.TemporaryDirectory() as tmp:
        plate, manifest = ingested_plate(Path(tmp), "bench", args.wells, args.size, args.planes)
        refs = list_fields(manifest)
        stacks = [np.asarray(field_array(plate, r)[0]) for r in refs]
        images = [s[k].astype(np.float32) for s in stacks for k in planes]
        normed = []
        for img in images:
            lo, hi = np.percentile(img, (1.0, 99.8))
            normed.append(((img - lo) / (hi - lo)).astype(np.float32))
        mpix = sum(i.size for i in images) / 1e6
        config = RestoreConfig(
            tile=args.tile,
            overlap=args.overlap,
            batch_size=args.batch,
            compile=args.compile,
            channels_last=args.channels_last,
            prefetch=_setting(args.prefetch),
            cuda_graphs=args.cuda_graphs
            if args.cuda_graphs == "auto"
            else args.cuda_graphs == "true",
        )
        runner = prepare_model(model, config)
        layout = plan_tiles(images[0].shape, args.tile, args.overlap)
        # the batch the pipeline chooses: no larger than one field's tiles (its calls)
        field_tiles = len(planes) * len(layout.starts)
        args.batch = choose_batch_size(runner, config, 1, device, field_tiles)

        tiles = np.concatenate([cut_tiles(pad_plane(n, layout), layout) for n in normed])
        tiles = tiles[:, None].astype(np.float32)
        bf16 = config.uses_bf16(device)  # as the pipeline decides it
        run_batches(runner, tiles[: args.batch], args.batch, device, bf16)  # warm-up
        t_eager = None
        if device.type == "cuda":  # the bare forward: tiles already on the device
            on_device = torch.from_numpy(tiles).to(device)
            memory_format = torch.channels_last if args.channels_last else torch.contiguous_format

            def bare_with(forward):
                def bare():
                    with torch.no_grad(), torch.autocast("cuda", torch.bfloat16):
                        for i in range(0, len(on_device), args.batch):
                            forward(
                                on_device[i : i + args.batch].contiguous(
                                    memory_format=memory_format
                                )
                            )
                    torch.cuda.synchronize()

                bare()  # warm-up (and the graphs' capture)
                return best_of(args.repeats, bare)

            # as the pipeline runs it (graphs or not), and eagerly
            graphed = with_cuda_graphs(runner, config, device)
            t_bare = bare_with(graphed)
            t_eager = t_bare if graphed is runner else bare_with(runner)
        else:
            t_bare = best_of(
                args.repeats, lambda: run_batches(runner, tiles, args.batch, device, bf16)
            )

        from monai.inferers import sliding_window_inference

        batch = torch.from_numpy(np.stack(normed)[:, None]).to(device)

        def sliding():
            with torch.no_grad(), torch.autocast(device.type, torch.bfloat16, enabled=bf16):
                for i in range(len(batch)):
                    sliding_window_inference(
                        batch[i : i + 1],
                        (args.tile, args.tile),
                        args.batch,
                        runner,
                        overlap=args.overlap / args.tile,
                        mode="gaussian",
                    )
            if device.type == "cuda":
                torch.cuda.synchronize()

        t_sliding = best_of(args.repeats, sliding)
        checkpoint = _save(model, tmp)
        runs = iter(range(args.repeats))

        def end_to_end(settings: RestoreConfig = config):
            restore_plate(
                plate,
                manifest,
                checkpoint,
                Path(tmp) / f"out{next(runs)}.ome.zarr",
                PlaneSelection(mode="list", z=planes),
                settings,
                Acquisition(0.65, 2.0),
                device=str(device),
                workers=args.workers,
                progress=False,
            )

        t_e2e = best_of(args.repeats, end_to_end)
        t_checks = best_of(args.repeats, lambda: integrity_checks(plate, manifest, tmp))
        t_e2e_eager = None
        if t_eager is not None and t_eager != t_bare:  # the pipeline without the graphs
            runs = iter(range(args.repeats, 2 * args.repeats))
            eager = dataclasses.replace(config, cuda_graphs=False)
            t_e2e_eager = best_of(args.repeats, lambda: end_to_end(eager))

    print(
        f"restore speed on {device}: {len(images)} planes of {args.size} x {args.size} "
        f"({mpix:.2f} Mpix), tile {args.tile}, overlap {args.overlap}, batch {args.batch}, "
        f"{args.workers} workers, compile {args.compile}, channels-last {args.channels_last}, "
        f"prefetch {args.prefetch}, CUDA graphs {args.cuda_graphs}"
        + (f", {torch.cuda.get_device_name(device)}" if device.type == "cuda" else "")
    )
    print(f"{'path':<44}{'seconds':>10}{'Mpix/s':>10}")
    rows = [("(a) bare model on pre-cut tiles", t_bare)]
    if t_eager is not None and t_eager != t_bare:
        rows.append(("(a') the same, eager (no CUDA graphs)", t_eager))
    for label, t in (
        *rows,
        ("(b) MONAI sliding_window_inference", t_sliding),
        ("(c) platefocus Zarr -> Zarr end to end", t_e2e),
        *([("(c') the same, eager (no CUDA graphs)", t_e2e_eager)] if t_e2e_eager else []),
    ):
        print(f"{label:<44}{t:>10.2f}{mpix / t:>10.3f}")
    print(f"{'(d) integrity checks of (c), all fields':<44}{t_checks:>10.3f}")
    summary = f"e2e_vs_bare={t_bare / t_e2e:.2f} e2e_vs_sliding_window={t_sliding / t_e2e:.2f}"
    summary += f" integrity_fraction={t_checks / t_e2e:.4f}"
    if t_e2e_eager:  # without the graphs, against the eager forward
        summary += f" eager_e2e_vs_eager_bare={t_eager / t_e2e_eager:.2f}"
    print(summary)


def integrity_checks(plate: Path, manifest, tmp: str) -> None:
    """Every integrity check a restore can make, over all fields: the input fields'
    stamps, the damaged-chunk check of a field a rerun would skip (on the first output
    plate), the output's writer lock."""
    from platefocus.io.fields import list_fields
    from platefocus.io.verify import damaged_chunks
    from platefocus.io.writer_lock import writer_lock
    from platefocus.restore.plate import field_stamp

    done = Path(tmp) / "out0.ome.zarr"
    with writer_lock(Path(tmp) / "checks.ome.zarr"):
        for ref in list_fields(manifest):
            field_stamp("plate", plate, ref)
            damaged_chunks(done, ref.path)


def _setting(value: str) -> bool | str:
    """A command-line ``auto|true|false`` as the configuration holds it."""
    return value if value == "auto" else value == "true"


def _save(model: torch.nn.Module, folder: str) -> str:
    path = Path(folder) / "bench.pt"
    torch.save(
        {
            "model": "restormer",
            "model_kwargs": {"levels": 3, "width": 16, "norm": "layer"},
            "in_channels": 1,
            "model_state": model.state_dict(),
            "dataset": {"percentiles": [1.0, 99.8], "context_planes": 0},
        },
        path,
    )
    return str(path)


if __name__ == "__main__":
    main()
