"""Synthetic plates ingested to OME-Zarr, for the restore benchmarks."""

from __future__ import annotations

from pathlib import Path

from platefocus.io.discover import DiscoveryConfig, discover_planes
from platefocus.io.ingest import ingest_plate
from platefocus.io.omezarr import Acquisition
from platefocus.synth import generate_plate, preset

PATTERN = (
    r"_z_(?P<z>\d+)/(?P<plate>[^/]+)_(?P<well>[A-Pa-p]\d{2})_s(?P<site>\d+)"
    r"_w(?P<channel>\d)[^/]*\.tiff?$"
)


def ingested_plate(folder: Path, name: str, wells: int, size: int = 256, planes: int = 5):
    """A one-row plate of ``wells`` wells x 1 site; returns (plate path, manifest)."""
    spec = preset(
        "demo",
        name=name,
        rows=1,
        columns=wells,
        sites=1,
        planes=planes,
        best_plane=planes // 2,
        height=size,
        width=size,
        well_offsets_um={},
    )
    raw = generate_plate(spec, folder / f"{name}_raw", progress=False)
    manifest = discover_planes(DiscoveryConfig(raw / "images", PATTERN))
    plate = folder / f"{name}.ome.zarr"
    result = ingest_plate(manifest, plate, Acquisition(0.65, 2.0), progress=False)
    return plate, result.manifest
