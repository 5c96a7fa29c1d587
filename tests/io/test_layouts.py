"""Named file layouts: a small plate written in each vendor's naming is discovered with
the right wells, sites, channels and planes, and ingests."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from platefocus.errors import InputError
from platefocus.io.discover import DiscoveryConfig, discover_planes
from platefocus.io.ingest import ingest_plate
from platefocus.io.layouts import LAYOUT_NAMES
from platefocus.io.omezarr import Acquisition, open_field

WELLS = [("B", 3), ("C", 12)]
SITES, CHANNELS, PLANES = (1, 2), (1, 2), (1, 2, 3)


def _name(layout: str, row: str, col: int, site: int, ch: int, z: int) -> str:
    well = f"{row}{col:02d}"
    if layout == "bbbc006":
        return f"img_z_{z:02d}/screen1_{well.lower()}_s{site}_w{ch}0a1b2c3d.tif"
    if layout == "imagexpress":
        return f"TimePoint_1/ZStep_{z}/screen1_{well}_s{site}_w{ch}6E5F4D3C-2B1A.tif"
    if layout == "operetta":
        r = ord(row) - ord("A") + 1
        return f"Images/r{r:02d}c{col:02d}f{site:02d}p{z:02d}-ch{ch}sk1fk1fl1.tiff"
    if layout == "cellvoyager":
        return f"screen1_{well}_T0001F{site:03d}L01A01Z{z:02d}C{ch:02d}.tif"
    raise ValueError(layout)


def _value(row: str, col: int, site: int, ch: int, z: int) -> int:
    return (ord(row) - 64) * 10000 + col * 100 + site * 10 + ch + 1000 * z


def write_plate(root, layout: str) -> None:
    for row, col in WELLS:
        for site in SITES:
            for ch in CHANNELS:
                for z in PLANES:
                    path = root / _name(layout, row, col, site, ch, z)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    plane = np.full((16, 20), _value(row, col, site, ch, z) % 65535, np.uint16)
                    tifffile.imwrite(path, plane, compression="zlib")
    if layout == "imagexpress":  # thumbnails beside the images are skipped
        thumb = root / "TimePoint_1" / "ZStep_1" / "screen1_B03_s1_w1_thumb9F8E.tif"
        tifffile.imwrite(thumb, np.zeros((4, 5), np.uint16))


#: Layouts of one field per file name (``scenes``, many fields per file: tests/io/test_scenes.py).
NAMED = [n for n in LAYOUT_NAMES if n not in ("custom", "ome-zarr", "scenes")]


@pytest.mark.parametrize("layout", NAMED)
def test_layout_discovers_every_plane(tmp_path, layout):
    write_plate(tmp_path, layout)
    manifest = discover_planes(DiscoveryConfig(tmp_path, layout=layout))
    assert len(manifest) == len(WELLS) * len(SITES) * len(CHANNELS) * len(PLANES)
    assert sorted(manifest["well"].unique()) == ["B03", "C12"]
    assert sorted(manifest["site"].unique()) == list(SITES)
    assert sorted(manifest["channel"].unique()) == list(CHANNELS)
    assert sorted(manifest["z"].unique()) == list(PLANES)
    for row in manifest.itertuples():
        expected = _value(row.row, row.column, row.site, row.channel, row.z) % 65535
        assert tifffile.imread(row.path)[0, 0] == expected


def test_operetta_plate_ingests(tmp_path):
    write_plate(tmp_path / "in", "operetta")
    manifest = discover_planes(DiscoveryConfig(tmp_path / "in", layout="operetta"))
    result = ingest_plate(manifest, tmp_path / "p.ome.zarr", Acquisition(0.65, 2.0), progress=False)
    assert len(result.manifest) == len(manifest)
    image = open_field(tmp_path / "p.ome.zarr", "C", 12, 1)[:]  # site 2 of C12
    assert image.shape == (2, 3, 16, 20)
    assert image[1, 2, 0, 0] == _value("C", 12, 2, 2, 3)


def test_single_site_single_wavelength_imagexpress_names(tmp_path):
    for z in (1, 2):
        path = tmp_path / f"ZStep_{z}" / "screen1_D05ABCDEF.tif"
        path.parent.mkdir(parents=True)
        tifffile.imwrite(path, np.zeros((8, 8), np.uint16))
    manifest = discover_planes(DiscoveryConfig(tmp_path, layout="imagexpress"))
    assert manifest[["well", "site", "channel", "z"]].values.tolist() == [
        ["D05", 1, 1, 1],
        ["D05", 1, 1, 2],
    ]


def test_layout_and_pattern_conflict_or_missing():
    with pytest.raises(InputError, match=r"input\.layout"):
        DiscoveryConfig("x", layout="nikon")
    with pytest.raises(InputError, match="layout: custom"):
        DiscoveryConfig("x", pattern=r"(?P<well>\w+)", layout="operetta")
    with pytest.raises(InputError, match=r"input\.pattern"):
        DiscoveryConfig("x")


@pytest.mark.parametrize("layout", ["bbbc006", "imagexpress", "cellvoyager", "operetta"])
def test_1536_well_names_are_read_and_ingested(tmp_path, layout):
    """A 1536-well plate has rows A-AF and columns 01-48: its corner wells are found and
    stored as rows A/AF, columns 1/48 of the OME-Zarr plate."""
    wells = [("A", 1), ("P", 24), ("AF", 48)]
    for row, col in wells:
        for z in (1, 2):
            if layout == "operetta":
                r = (ord(row[-1]) - ord("A") + 1) + (26 if len(row) == 2 else 0)
                name = f"Images/r{r:02d}c{col:02d}f01p{z:02d}-ch1sk1fk1fl1.tiff"
            else:
                name = _name(layout, "B", 1, 1, 1, z).replace("B01", f"{row}{col:02d}")
                name = name.replace("b01", f"{row.lower()}{col:02d}")
            path = tmp_path / "in" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(path, np.full((8, 8), len(row) * 100 + col + z, np.uint16))
    manifest = discover_planes(DiscoveryConfig(tmp_path / "in", layout=layout))
    assert sorted(manifest["well"].unique()) == ["A01", "AF48", "P24"]
    ingest_plate(manifest, tmp_path / "p.ome.zarr", Acquisition(0.65, 2.0), progress=False)
    corner = open_field(tmp_path / "p.ome.zarr", "AF", 48, 0)[:]  # (c, z, y, x)
    assert corner[0, 1, 0, 0] == 200 + 48 + 2
