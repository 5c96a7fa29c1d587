"""Command line interface: ``platefocus <command> ...`` for use outside Snakemake.

Every command calls one function of :mod:`platefocus.pipeline`; defaults come from the
library's settings dataclasses, never from a copy here.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from platefocus.logs import run_step


def _synth(args: argparse.Namespace) -> None:
    from platefocus.pipeline.synthetic import synthesize_plate

    overrides = json.loads(args.overrides) if args.overrides else {}
    synthesize_plate(args.out, args.name, args.preset, args.seed, overrides, args.threads)


def _ingest(args: argparse.Namespace) -> None:
    from platefocus.io.discover import DiscoveryConfig
    from platefocus.io.omezarr import Acquisition
    from platefocus.pipeline.ingest import ingest_folder

    out = Path(args.output)
    stem = out.name.split(".")[0]
    ingest_folder(
        DiscoveryConfig(root=Path(args.input), pattern=args.pattern, plate=args.plate),
        Acquisition(args.pixel_size_um, args.z_step_um, tuple(args.channel_names)),
        out_plate=out,
        out_manifest=out.with_name(f"{stem}.manifest.parquet"),
        out_qc=out.with_name(f"{stem}.ingest_qc.tsv"),
        on_bad_file=args.on_bad_file,
        workers=args.threads,
    )


def _inspect(args: argparse.Namespace) -> None:
    from platefocus.pipeline.ingest import inspect_plate

    out = Path(args.out)
    summary = inspect_plate(
        args.plate,
        {"root": args.input, "layout": args.layout, "pattern": args.pattern},
        {"pixel_size_um": args.pixel_size_um, "z_step_um": args.z_step_um},
        out_fields=out / "fields.tsv",
        out_map=out / "plate_map.png",
        out_summary=out / "summary.txt",
    )
    import pandas as pd

    fields = pd.read_csv(out / "fields.tsv", sep="\t", keep_default_na=False)
    with pd.option_context("display.width", 160, "display.max_rows", args.rows):
        print(fields.drop(columns=["row", "column"]).to_string(index=False, max_rows=args.rows))
    print(summary)
    print(f"table: {out / 'fields.tsv'}  plate map: {out / 'plate_map.png'}")


def _cut_stack(args: argparse.Namespace) -> None:
    from platefocus.pipeline.ingest import cut_stack

    wells = cut_stack(args.stack, args.out, tuple(args.grid), args.plate)
    print(f"wrote {len(wells)} wells ({', '.join(wells)}) of plate {args.plate} to {args.out}")


def _unlock(args: argparse.Namespace) -> None:
    from platefocus.pipeline.common import unlock_stale

    if unlock_stale(args.directory):
        print(f"removed the stale lock of a killed run in {args.directory}")


def _restore(args: argparse.Namespace) -> None:
    from platefocus.pipeline.restore import restore_ome_zarr

    tiling = {
        k: v
        for k, v in (
            ("tile", args.tile),
            ("overlap", args.overlap),
            ("batch_size", args.batch_size),
        )
        if v is not None
    }
    result = restore_ome_zarr(
        args.checkpoint,
        args.input,
        args.output,
        planes=args.planes,
        channel=args.channel,
        tiling=tiling,
        device=args.device,
        workers=args.threads,
        scheduler_address=args.scheduler,
    )
    print(
        f"restored {result['computed']} fields ({result['skipped']} already done) "
        f"of {result['fields']} into {args.output}"
    )


def _export_model(args: argparse.Namespace) -> None:
    from platefocus.pipeline.training import export_model

    path = export_model(
        args.checkpoint, args.plate, args.output, best_path=args.best, channel=args.channel
    )
    print(f"wrote {path} (check it with: bioimageio test {path})")


def build_parser() -> argparse.ArgumentParser:
    from platefocus import __version__
    from platefocus.io.ingest import ON_BAD_FILE
    from platefocus.io.layouts import BBBC006_PATTERN, LAYOUT_NAMES
    from platefocus.synth.spec import PRESETS

    parser = argparse.ArgumentParser(prog="platefocus", description=__doc__)
    parser.add_argument("--version", action="version", version=f"platefocus {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="generate a synthetic plate in the BBBC006 layout")
    p.add_argument("--out", required=True, help="folder to create (images/ and truth/)")
    p.add_argument("--preset", default="demo", choices=sorted(PRESETS))
    p.add_argument("--name", default="demo", help="plate name used in file names")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overrides", help="JSON object of PlateSpec fields, e.g. '{\"rows\": 1}'")
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(func=_synth)

    p = sub.add_parser("ingest", help="ingest TIFF Z-stacks into an OME-Zarr HCS plate")
    p.add_argument("--input", required=True, help="folder holding the plate's planes")
    p.add_argument("--output", required=True, help="PLATE.ome.zarr to create")
    p.add_argument("--plate", default=None, help="plate to select (or name, if no group)")
    p.add_argument(
        "--pattern",
        default=BBBC006_PATTERN,
        help="regular expression with groups well, site, channel, z (and plate)",
    )
    p.add_argument("--pixel-size-um", type=float, required=True)
    p.add_argument("--z-step-um", type=float, required=True)
    p.add_argument("--channel-names", nargs="*", default=[])
    p.add_argument("--on-bad-file", choices=ON_BAD_FILE, default=ON_BAD_FILE[0])
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(func=_ingest)

    p = sub.add_parser("inspect", help="what a plate folder holds, before any work")
    p.add_argument("--input", required=True, help="folder holding the plate's files")
    p.add_argument("--out", default="inspect", help="folder for fields.tsv and plate_map.png")
    p.add_argument("--plate", default=None, help="plate to select (or name, if no group)")
    p.add_argument("--layout", default="bbbc006", choices=LAYOUT_NAMES)
    p.add_argument("--pattern", default=None, help="regular expression (with --layout custom)")
    p.add_argument("--pixel-size-um", type=float, help="configured pixel size, to check")
    p.add_argument("--z-step-um", type=float, help="configured z-step, to check")
    p.add_argument("--rows", type=int, default=40, help="table rows to print")
    p.set_defaults(func=_inspect)

    p = sub.add_parser("cut-stack", help="a plate of real pixels: a Z-stack cut into wells")
    p.add_argument("--stack", required=True, help="(z, y, x) TIFF stack")
    p.add_argument("--out", required=True, help="folder to create (images/ inside)")
    p.add_argument("--grid", type=int, nargs=2, default=[2, 2], help="rows columns of wells")
    p.add_argument("--plate", default="stack", help="plate name used in file names")
    p.set_defaults(func=_cut_stack)

    p = sub.add_parser("unlock", help="remove a killed run's Snakemake lock (never a live run's)")
    p.add_argument("--directory", default=".", help="the workflow's working folder")
    p.set_defaults(func=_unlock)

    _add_restore(sub)
    _add_export_model(sub)
    return parser


def _add_restore(sub) -> None:
    p = sub.add_parser("restore", help="restore a plate with a trained checkpoint")
    p.add_argument(
        "--checkpoint",
        "--model",
        dest="checkpoint",
        required=True,
        help="checkpoint.pt written by training, or a bioimage.io package (.zip)",
    )
    p.add_argument("--input", required=True, help="ingested PLATE.ome.zarr")
    p.add_argument("--output", required=True, help="OUT.ome.zarr to create")
    p.add_argument(
        "--planes",
        type=int,
        nargs="*",
        default=None,
        help="plane indices to restore (default: every plane)",
    )
    p.add_argument("--channel", type=int, default=1)
    p.add_argument("--tile", type=int, help="tile side, pixels (default: the library's)")
    p.add_argument("--overlap", type=int, help="overlap of tiles, pixels")
    p.add_argument("--batch-size", type=int, help="tiles per model call")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--threads", type=int, default=1, help="fields restored in parallel")
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    p.set_defaults(func=_restore)


def _add_export_model(sub) -> None:
    p = sub.add_parser("export-model", help="a checkpoint as a bioimage.io model package")
    p.add_argument("--checkpoint", required=True, help="checkpoint.pt written by training")
    p.add_argument("--plate", required=True, help="ingested PLATE.ome.zarr (test input)")
    p.add_argument("--best", help="best_planes.parquet of the plate (picks the test plane)")
    p.add_argument("--channel", type=int, default=1)
    p.add_argument("--output", required=True, help="PACKAGE.zip to write")
    p.set_defaults(func=_export_model)


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    run_step(lambda: args.func(args))


if __name__ == "__main__":
    main()
