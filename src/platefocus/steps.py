"""Pipeline steps: each turns plain parameters (as a rule or the CLI gives them) into a call
of the library and writes its outputs atomically. Snakemake adapters call exactly one."""

from __future__ import annotations

import logging
from pathlib import Path

from platefocus.errors import InputError

log = logging.getLogger(__name__)


def synthesize_plate(
    out_dir: str | Path, plate: str, preset: str, seed: int, overrides: dict, workers: int = 1
) -> None:
    """Generate the synthetic plate ``plate`` from a preset into ``out_dir``."""
    from platefocus.synth import generate_plate
    from platefocus.synth import preset as make_preset

    try:
        spec = make_preset(preset, **{**overrides, "name": plate, "seed": seed})
    except (TypeError, ValueError) as err:
        raise InputError("synthetic.overrides", str(err)) from None
    generate_plate(spec, out_dir, workers=workers)


def ingest_plate(
    plate: str,
    root: str | Path,
    pattern: str,
    extensions: list[str],
    ignore: list[str],
    acquisition: dict,
    out_plate: str | Path,
    out_manifest: str | Path,
    out_qc: str | Path,
    on_bad_file: str = "error",
    pyramid_levels: int = 2,
    workers: int = 1,
) -> None:
    """Discover a plate's planes, ingest them to OME-Zarr, write the manifest and QC table."""
    from platefocus.io.atomic import write_table
    from platefocus.io.discover import DiscoveryConfig, discover_planes
    from platefocus.io.ingest import ingest_plate as ingest
    from platefocus.io.omezarr import Acquisition

    discovery = DiscoveryConfig(
        root=Path(root),
        pattern=pattern,
        extensions=tuple(extensions),
        ignore=tuple(ignore),
        plate=plate,
    )
    manifest = discover_planes(discovery)
    acq = Acquisition(
        pixel_size_um=float(acquisition["pixel_size_um"]),
        z_step_um=float(acquisition["z_step_um"]),
        channel_names=tuple(acquisition.get("channel_names", ())),
    )
    result = ingest(
        manifest,
        out_plate,
        acq,
        on_bad_file=on_bad_file,
        workers=workers,
        pyramid_levels=pyramid_levels,
    )
    write_table(result.qc, out_qc)
    write_table(result.manifest, out_manifest)
    log.info(
        "ingested %d planes of %d fields; %d problem(s) in %s",
        len(result.manifest),
        result.manifest.groupby(["well", "site"]).ngroups,
        len(result.qc),
        out_qc,
    )
