"""Command line interface: ``platefocus <command> ...`` for use outside Snakemake."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from platefocus.logs import run_step


def _synth(args: argparse.Namespace) -> None:
    from platefocus.steps import synthesize_plate

    overrides = json.loads(args.overrides) if args.overrides else {}
    synthesize_plate(args.out, args.name, args.preset, args.seed, overrides, args.threads)


def _ingest(args: argparse.Namespace) -> None:
    from pathlib import Path

    from platefocus.steps import ingest_plate

    out = Path(args.output)
    ingest_plate(
        plate=args.plate,
        root=args.input,
        pattern=args.pattern,
        extensions=[".tif", ".tiff"],
        ignore=[r"(^|/)\."],
        acquisition={
            "pixel_size_um": args.pixel_size_um,
            "z_step_um": args.z_step_um,
            "channel_names": args.channel_names,
        },
        out_plate=out,
        out_manifest=out.with_name(out.name.split(".")[0] + ".manifest.parquet"),
        out_qc=out.with_name(out.name.split(".")[0] + ".ingest_qc.tsv"),
        on_bad_file=args.on_bad_file,
        workers=args.threads,
    )


def _restore(args: argparse.Namespace) -> None:
    from platefocus.restore import RestoreConfig
    from platefocus.restore_plate import PlaneSelection, restore_plate
    from platefocus.steps import _checkpoint_percentiles

    manifest, acquisition = _plate_manifest(args.input)
    selection = (
        PlaneSelection(mode="all")
        if args.planes is None
        else PlaneSelection(mode="list", z=tuple(args.planes))
    )
    config = RestoreConfig(
        tile=args.tile,
        overlap=args.overlap,
        batch_size=args.batch_size,
        percentiles=_checkpoint_percentiles(args.checkpoint),
    )
    result = restore_plate(
        args.input,
        manifest,
        args.checkpoint,
        args.output,
        selection,
        config,
        acquisition,
        channel=args.channel,
        device=args.device,
        workers=args.threads,
        dask_settings={"scheduler_address": args.scheduler},
    )
    print(
        f"restored {result['computed']} fields ({result['skipped']} already done) "
        f"of {result['fields']} into {args.output}"
    )


def _plate_manifest(plate: str):
    """A manifest (one row per plane) and the acquisition read back from an ingested plate."""
    import pandas as pd
    import zarr

    from platefocus.errors import InputError
    from platefocus.io.omezarr import Acquisition

    try:
        root = zarr.open_group(plate, mode="r")
        wells = root.attrs["ome"]["plate"]["wells"]
    except Exception as err:
        raise InputError(plate, f"not an OME-Zarr HCS plate ({err})") from None
    rows, acquisition = [], None
    for well in wells:
        row, column = well["path"].split("/")
        for image in root[well["path"]].attrs["ome"]["well"]["images"]:
            group = root[f"{well['path']}/{image['path']}"]
            extra = group.attrs.get("platefocus", {})
            if acquisition is None:
                scale = group.attrs["ome"]["multiscales"][0]["datasets"][0][
                    "coordinateTransformations"
                ][0]["scale"]
                labels = [
                    c["label"] for c in group.attrs["ome"].get("omero", {}).get("channels", [])
                ]
                acquisition = Acquisition(scale[-1], scale[1], tuple(labels))
            for channel in extra.get("channels", [1]):
                for z in extra.get("z_indices", []):
                    rows.append(
                        dict(
                            plate=root.attrs["ome"]["plate"].get("name", "plate"),
                            well=extra.get("well", f"{row}{int(column):02d}"),
                            row=row,
                            column=int(column),
                            site=extra.get("site", int(image["path"]) + 1),
                            field=int(image["path"]),
                            channel=channel,
                            z=z,
                        )
                    )
    return pd.DataFrame(rows), acquisition


def build_parser() -> argparse.ArgumentParser:
    from platefocus import __version__

    parser = argparse.ArgumentParser(prog="platefocus", description=__doc__)
    parser.add_argument("--version", action="version", version=f"platefocus {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="generate a synthetic plate in the BBBC006 layout")
    p.add_argument("--out", required=True, help="folder to create (images/ and truth/)")
    p.add_argument("--preset", default="demo", choices=["demo", "bbbc006"])
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
        default=r"_z_(?P<z>\d+)/(?P<plate>[^/]+)_(?P<well>[A-Pa-p]\d{2})_s(?P<site>\d+)"
        r"_w(?P<channel>\d)[^/]*\.tiff?$",
        help="regular expression with groups well, site, channel, z (and plate)",
    )
    p.add_argument("--pixel-size-um", type=float, required=True)
    p.add_argument("--z-step-um", type=float, required=True)
    p.add_argument("--channel-names", nargs="*", default=[])
    p.add_argument("--on-bad-file", choices=["error", "skip"], default="error")
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(func=_ingest)

    p = sub.add_parser("restore", help="restore a plate with a trained checkpoint")
    p.add_argument("--checkpoint", required=True, help="checkpoint.pt written by training")
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
    p.add_argument("--tile", type=int, default=256)
    p.add_argument("--overlap", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--threads", type=int, default=1, help="fields restored in parallel")
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    p.set_defaults(func=_restore)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    run_step(lambda: args.func(args))


if __name__ == "__main__":
    main()
