"""Command line interface: ``platefocus <command> ...`` for use outside Snakemake.

Every command calls one function of :mod:`platefocus.pipeline`; defaults come from the
library's settings dataclasses, never from a copy here (``tests/test_defaults.py`` checks
them against the workflow's schema).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from platefocus.errors import InputError
from platefocus.logs import run_step


def _synth(args: argparse.Namespace) -> None:
    from platefocus.pipeline.synthetic import synthesize_plate

    try:
        overrides = json.loads(args.overrides) if args.overrides else {}
    except json.JSONDecodeError as err:
        raise InputError("--overrides", f"not a JSON object ({err})") from None
    if not isinstance(overrides, dict):
        raise InputError("--overrides", f"must be a JSON object, got {args.overrides!r}")
    synthesize_plate(args.output, args.name, args.preset, args.seed, overrides, args.threads)


def _ingest(args: argparse.Namespace) -> None:
    from platefocus.io.discover import DiscoveryConfig
    from platefocus.io.omezarr import Acquisition
    from platefocus.pipeline.ingest import ingest_folder

    out = Path(args.output)
    stem = out.name.split(".")[0]
    ingest_folder(
        DiscoveryConfig(
            root=Path(args.input), pattern=args.pattern, plate=args.plate, layout=args.layout
        ),
        Acquisition(args.pixel_size_um, args.z_step_um, tuple(args.channel_names)),
        out_plate=out,
        out_manifest=out.with_name(f"{stem}.manifest.parquet"),
        out_qc=out.with_name(f"{stem}.ingest_qc.tsv"),
        on_bad_file=args.on_bad_file,
        workers=args.threads,
    )


def _inspect(args: argparse.Namespace) -> None:
    from platefocus.pipeline.ingest import inspect_plate

    out = Path(args.output)
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

    wells = cut_stack(args.stack, args.output, tuple(args.grid), args.plate)
    print(f"wrote {len(wells)} wells ({', '.join(wells)}) of plate {args.plate} to {args.output}")


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
        offsets=args.offsets,
        best_path=args.best,
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
        args.checkpoint, args.input, args.output, best_path=args.best, channel=args.channel
    )
    print(f"wrote {path} (check it with: bioimageio test {path})")


DESCRIPTION = """\
Restore out-of-focus microscopy plates outside the Snakemake workflow: generate a
synthetic plate, look at a plate folder, ingest it into OME-Zarr, restore it with a
trained model, export a model for bioimage.io. The whole workflow runs with
`snakemake --cores N` (see the documentation site, docs/)."""


def _command(sub, name: str, help: str) -> argparse.ArgumentParser:
    """A sub-command whose help shows every argument's default."""
    return sub.add_parser(
        name, help=help, description=help, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``platefocus`` command line (every argument has a help text; the reference
    page of the documentation is generated from this parser)."""
    from platefocus import __version__
    from platefocus.io.ingest import ON_BAD_FILE
    from platefocus.io.layouts import LAYOUT_NAMES
    from platefocus.synth.spec import PRESETS

    parser = argparse.ArgumentParser(prog="platefocus", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"platefocus {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = _command(sub, "synth", "generate a synthetic plate in the BBBC006 layout")
    p.add_argument("--output", required=True, help="folder to create (images/ and truth/)")
    p.add_argument("--preset", default="demo", choices=sorted(PRESETS), help="geometry preset")
    p.add_argument("--name", default="demo", help="plate name used in file names")
    p.add_argument("--seed", type=int, default=0, help="same seed, same bytes")
    p.add_argument("--overrides", help="JSON object of PlateSpec fields, e.g. '{\"rows\": 1}'")
    p.add_argument("--threads", type=int, default=1, help="CPU threads")
    p.set_defaults(func=_synth)

    p = _command(sub, "ingest", "ingest a plate's image files into an OME-Zarr HCS plate")
    _add_plate_folder(p, LAYOUT_NAMES)
    p.add_argument("--output", required=True, help="PLATE.ome.zarr to create")
    p.add_argument(
        "--pattern",
        default=None,
        help="with --layout custom: a regular expression with named groups well (or row and "
        "column), site, and optionally channel, z, plate",
    )
    p.add_argument(
        "--pixel-size-um", type=float, required=True, help="pixel size in the sample, um"
    )
    p.add_argument("--z-step-um", type=float, required=True, help="distance between planes, um")
    p.add_argument(
        "--channel-names", nargs="*", default=[], help="names in channel order (w1, w2, ...)"
    )
    p.add_argument(
        "--on-bad-file",
        choices=ON_BAD_FILE,
        default=ON_BAD_FILE[0],
        help="error: stop at the first bad file; skip: list it in the QC table, leave its "
        "field out",
    )
    p.add_argument("--threads", type=int, default=4, help="CPU threads")
    p.set_defaults(func=_ingest)

    p = _command(sub, "inspect", "what a plate folder holds, before any work")
    _add_plate_folder(p, LAYOUT_NAMES)
    p.add_argument(
        "--output", default="inspect", help="folder for fields.tsv, plate_map.png, summary.txt"
    )
    p.add_argument("--pattern", default=None, help="regular expression (with --layout custom)")
    p.add_argument("--pixel-size-um", type=float, help="configured pixel size to check, um")
    p.add_argument("--z-step-um", type=float, help="configured z step to check, um")
    p.add_argument("--rows", type=int, default=40, help="table rows to print")
    p.set_defaults(func=_inspect)

    p = _command(sub, "cut-stack", "a plate of real pixels: a Z-stack cut into wells")
    p.add_argument("--stack", required=True, help="(z, y, x) TIFF stack")
    p.add_argument("--output", required=True, help="folder to create (images/ inside)")
    p.add_argument("--grid", type=int, nargs=2, default=[2, 2], help="rows and columns of wells")
    p.add_argument("--plate", default="stack", help="plate name used in file names")
    p.set_defaults(func=_cut_stack)

    p = _command(sub, "unlock", "remove a killed run's Snakemake lock (never a live run's)")
    p.add_argument("--directory", default=".", help="the workflow's working folder")
    p.set_defaults(func=_unlock)

    _add_restore(sub)
    _add_export_model(sub)
    return parser


def _add_plate_folder(p: argparse.ArgumentParser, layouts: Sequence[str]) -> None:
    """The arguments that say where a plate's files are and how they are named."""
    p.add_argument("--input", required=True, help="folder holding the plate's files")
    p.add_argument(
        "--layout",
        default="custom",
        choices=layouts,
        help="how the acquisition system names its files (custom: give --pattern)",
    )
    p.add_argument("--plate", default=None, help="plate name to select (or to give, if none)")


def _add_restore(sub) -> None:
    p = _command(sub, "restore", "restore a plate with a trained checkpoint")
    p.add_argument(
        "--checkpoint",
        "--model",
        dest="checkpoint",
        required=True,
        help="checkpoint.pt written by training, or a bioimage.io package (.zip)",
    )
    p.add_argument("--input", required=True, help="ingested PLATE.ome.zarr")
    p.add_argument("--output", required=True, help="OUT.ome.zarr to create")
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--planes",
        type=int,
        nargs="*",
        default=None,
        help="plane indices (0-based) to restore (default: every plane)",
    )
    which.add_argument(
        "--offsets",
        type=int,
        nargs="+",
        default=None,
        help="planes at these offsets from each field's best plane (planes; > 0 above "
        "focus); needs --best",
    )
    p.add_argument("--best", default=None, help="best_planes.parquet of the plate (with --offsets)")
    p.add_argument("--channel", type=int, default=1, help="channel restored (1-based)")
    p.add_argument("--tile", type=int, help="tile side, pixels (default: restore.tile)")
    p.add_argument(
        "--overlap", type=int, help="overlap of tiles, pixels (default: restore.overlap)"
    )
    p.add_argument(
        "--batch-size", type=int, help="tiles per model call (default: restore.batch_size)"
    )
    p.add_argument(
        "--device", default="auto", choices=["auto", "cpu", "cuda"], help="auto: CUDA when present"
    )
    p.add_argument("--threads", type=int, default=2, help="fields restored in parallel")
    p.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    p.set_defaults(func=_restore)


def _add_export_model(sub) -> None:
    p = _command(sub, "export-model", "a checkpoint as a bioimage.io model package")
    p.add_argument("--checkpoint", required=True, help="checkpoint.pt written by training")
    p.add_argument("--input", required=True, help="ingested PLATE.ome.zarr (the test input)")
    p.add_argument("--best", help="best_planes.parquet of the plate (picks the test plane)")
    p.add_argument("--channel", type=int, default=1, help="channel of the test input (1-based)")
    p.add_argument("--output", required=True, help="PACKAGE.zip to write")
    p.set_defaults(func=_export_model)


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    run_step(lambda: args.func(args))


if __name__ == "__main__":
    main()
