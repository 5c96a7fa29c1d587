"""Rules of ``workflow/rules/ingest.smk``: discover a plate's files, write them block by
block into an OME-Zarr plate, complete it; and the one-shot ingest of the CLI."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from platefocus.io.atomic import atomic_path, read_table, remove_outputs, write_table
from platefocus.io.blocks import block_wells, write_block_plan
from platefocus.io.discover import DiscoveryConfig, discover_planes
from platefocus.io.layouts import OME_ZARR
from platefocus.io.omezarr import Acquisition

log = logging.getLogger(__name__)


def discover_plate(
    plate: str,
    input_section: dict,
    out_discovered: str | Path,
    out_qc: str | Path,
    out_blocks: str | Path,
    wells_per_job: int,
    on_bad_file: str = "error",
    workers: int = 1,
) -> None:
    """Find a plate's planes, check every file, and cut the plate into blocks of wells."""
    from platefocus.io.ingest import prepare_ingest
    from platefocus.io.plate_input import checked_plate_planes

    discovery = DiscoveryConfig.from_config(input_section, plate)
    if discovery.layout == OME_ZARR:  # used in place: its metadata lists the planes
        good, problems = checked_plate_planes(discovery.root, plate, on_bad_file)
    else:
        good, problems = prepare_ingest(discover_planes(discovery), on_bad_file, workers)
    write_table(problems, out_qc)
    write_table(good, out_discovered)
    blocks = write_block_plan(good["well"].unique(), wells_per_job, out_blocks)
    log.info(
        "%d planes of %d fields in %d wells -> %d block(s) of <= %d wells; %d problem(s)",
        len(good),
        good.groupby(["well", "site"]).ngroups,
        good["well"].nunique(),
        blocks,
        wells_per_job,
        len(problems),
    )


def ingest_wells(
    discovered_path: str | Path,
    blocks_path: str | Path,
    block: int,
    acquisition: dict,
    out_plate: str | Path,
    out_manifest: str | Path,
    out_qc: str | Path,
    on_bad_file: str = "error",
    pyramid_levels: int = 2,
    workers: int = 1,
) -> None:
    """Write one block of wells into the partial plate (one job); record what it wrote."""
    from platefocus.io.ingest import QC_COLUMNS, IngestResult
    from platefocus.io.plate_input import is_in_place

    wells = block_wells(blocks_path, block)
    discovered = pd.read_parquet(discovered_path)
    if is_in_place(discovered):  # nothing to write: the input plate is used as it is
        rows = discovered[discovered["well"].isin(wells)].reset_index(drop=True)
        result = IngestResult(rows, pd.DataFrame(columns=QC_COLUMNS))
    else:
        result = _ingest_block(
            discovered, wells, acquisition, out_plate, on_bad_file, pyramid_levels, workers
        )
    write_table(result.qc, out_qc)
    write_table(result.manifest, out_manifest)
    log.info("block %d: %d wells, %d planes written", block, len(wells), len(result.manifest))


def _ingest_block(discovered, wells, acquisition, out_plate, on_bad_file, pyramid_levels, workers):
    from platefocus.io.ingest import ingest_fields

    return ingest_fields(
        discovered,
        out_plate,
        Acquisition.from_config(acquisition),
        wells=wells,
        on_bad_file=on_bad_file,
        workers=workers,
        pyramid_levels=pyramid_levels,
    )


def ingest_plate(
    discovered_path: str | Path,
    acquisition: dict,
    pyramid_levels: int,
    discovery_qc: str | Path,
    block_manifests: list[str | Path],
    block_qcs: list[str | Path],
    out_plate: str | Path,
    out_manifest: str | Path,
    out_qc: str | Path,
) -> None:
    """Complete a plate ingested block by block: metadata, manifest, QC; rename in place."""
    from platefocus.io.ingest import finalise_ingest, ingest_stamp
    from platefocus.io.plate_input import is_in_place, link_plate

    manifest = pd.concat([pd.read_parquet(p) for p in block_manifests], ignore_index=True)
    qc = pd.concat([read_table(p) for p in [discovery_qc, *block_qcs]], ignore_index=True)
    discovered = pd.read_parquet(discovered_path)
    if is_in_place(discovered):
        link_plate(discovered["path"].iloc[0], out_plate)
    else:
        stamp = ingest_stamp(discovered, Acquisition.from_config(acquisition), pyramid_levels)
        finalise_ingest(manifest, out_plate, stamp)
    _write_ingest_tables(manifest, qc, out_manifest, out_qc)


def ingest_folder(
    discovery: DiscoveryConfig,
    acquisition: Acquisition,
    out_plate: str | Path,
    out_manifest: str | Path,
    out_qc: str | Path,
    on_bad_file: str = "error",
    pyramid_levels: int = 2,
    workers: int = 1,
) -> None:
    """Discover a folder's planes and ingest them in one go (the CLI's ``ingest``)."""
    from platefocus.io.ingest import ingest_plate as ingest

    result = ingest(
        discover_planes(discovery),
        out_plate,
        acquisition,
        on_bad_file=on_bad_file,
        workers=workers,
        pyramid_levels=pyramid_levels,
    )
    # The plate, its manifest and QC table are one set: if the tables cannot be written
    # (a full disk), nothing of the set is left to look complete.
    try:
        _write_ingest_tables(result.manifest, result.qc, out_manifest, out_qc)
    except BaseException:
        remove_outputs(out_plate, out_manifest, out_qc)
        raise


def _write_ingest_tables(manifest, qc, out_manifest: str | Path, out_qc: str | Path) -> None:
    """Write a finished ingest's manifest and QC table, and say what was ingested."""
    write_table(qc, out_qc)
    write_table(manifest, out_manifest)
    log.info(
        "ingested %d planes of %d fields; %d problem(s) in %s",
        len(manifest),
        manifest.groupby(["well", "site"]).ngroups,
        len(qc),
        out_qc,
    )


def inspect_plate(
    plate: str | None,
    input_section: dict,
    acquisition: dict,
    out_fields: str | Path,
    out_map: str | Path,
    out_summary: str | Path,
    source: str | None = None,
) -> str:
    """What the plate folder holds (table, plate map, summary), checked against the
    configured acquisition; returns the summary. The first output of a run. ``source``
    (:func:`platefocus.pipeline.common.plate_source`), when given, is its first line."""
    from platefocus.io.inventory import take_inventory
    from platefocus.io.plate_input import plate_planes
    from platefocus.report.inspect import plate_map
    from platefocus.report.style import save_figure

    discovery = DiscoveryConfig.from_config(input_section, plate)
    inventory = take_inventory(
        plate_planes(discovery.root, plate)
        if discovery.layout == OME_ZARR
        else discover_planes(discovery),
        acquisition.get("pixel_size_um"),
        acquisition.get("z_step_um"),
    )
    write_table(inventory.fields, out_fields)
    save_figure(plate_map(inventory.fields), out_map)
    summary = inventory.summary()
    if source:
        summary = f"{source}\n{summary}"
    with atomic_path(out_summary) as tmp:
        Path(tmp).write_text(summary + "\n")
    for line in summary.splitlines():
        (log.warning if line.startswith("WARNING") else log.info)("%s", line)
    return summary


def cut_stack(
    stack_path: str | Path, out_dir: str | Path, grid: tuple[int, int], plate: str
) -> list[str]:
    """A plate of real pixels from one Z-stack (the CLI's ``cut-stack``)."""
    from platefocus.io.stack_plate import cut_stack_into_plate

    return cut_stack_into_plate(stack_path, out_dir, grid, plate)
