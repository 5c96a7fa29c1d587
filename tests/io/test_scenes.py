"""Files that hold many fields (scenes): wells and sites from OME plate metadata or scene
names, every plane read (the ``scenes`` layout, through bioio as ND2/CZI/LIF are)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from platefocus.errors import InputError
from platefocus.io.discover import DiscoveryConfig, discover_planes
from platefocus.io.readers import read_plane

pytest.importorskip("bioio_ome_tiff")

SHAPE = (2, 3, 24, 20)  # channels, planes, y, x of every scene


def _write_scenes(path: Path, names: list[str], wells: list[tuple[int, int]] | None = None):
    """An OME-TIFF of one series per scene, (c, z, y, x) each; with ``wells`` (0-based row,
    column per scene), OME plate metadata placing each image in its well."""
    rng = np.random.default_rng(len(names))
    stacks = [(rng.random(SHAPE) * 4000).astype(np.uint16) for _ in names]
    with tifffile.TiffWriter(path, ome=True) as tif:
        for name, stack in zip(names, stacks, strict=True):
            tif.write(stack, metadata={"axes": "CZYX", "Name": name, "PhysicalSizeX": 0.65})
    if wells is not None:
        from ome_types import from_xml
        from ome_types.model import ImageRef, Plate, Well, WellSample

        ome = from_xml(tifffile.tiffcomment(path))
        placed: dict = {}
        for i, (image, key) in enumerate(zip(ome.images, wells, strict=True)):
            placed.setdefault(key, []).append(
                WellSample(id=f"WellSample:{i}", index=i, image_ref=ImageRef(id=image.id))
            )
        ome.plates = [
            Plate(
                id="Plate:0",
                wells=[
                    Well(id=f"Well:{n}", row=r, column=c, well_samples=samples)
                    for n, ((r, c), samples) in enumerate(placed.items())
                ],
            )
        ]
        tifffile.tiffcomment(path, ome.to_xml().encode())
    return stacks


def test_scenes_named_after_wells_are_fields_with_every_plane(tmp_path):
    folder = tmp_path / "plate"
    folder.mkdir()
    names = ["A01 field 1", "A01 field 2", "Well B03 #1", "AF48"]
    stacks = _write_scenes(folder / "run.ome.tif", names)
    manifest = discover_planes(DiscoveryConfig(folder, layout="scenes", plate="p"))
    fields = manifest.groupby(["well", "site"]).size()
    assert dict(fields) == {("A01", 1): 6, ("A01", 2): 6, ("B03", 1): 6, ("AF48", 1): 6}
    scene_of = {("A01", 1): 0, ("A01", 2): 1, ("B03", 1): 2, ("AF48", 1): 3}
    for row in manifest.itertuples():
        expected = stacks[scene_of[(row.well, row.site)]][row.channel - 1, row.z]
        np.testing.assert_array_equal(read_plane(row.path, row.page), expected)


def test_ome_plate_metadata_places_scenes_whose_names_say_nothing(tmp_path):
    folder = tmp_path / "plate"
    folder.mkdir()
    names = ["Position 1", "Position 2", "Position 3"]
    stacks = _write_scenes(folder / "run.ome.tif", names, wells=[(1, 2), (1, 2), (3, 0)])
    manifest = discover_planes(DiscoveryConfig(folder, layout="scenes", plate="p"))
    assert sorted(set(zip(manifest["well"], manifest["site"], strict=True))) == [
        ("B03", 1),
        ("B03", 2),
        ("D01", 1),
    ]
    row = manifest[(manifest["well"] == "D01") & (manifest["channel"] == 2)].iloc[2]
    np.testing.assert_array_equal(read_plane(row["path"], row["page"]), stacks[2][1, 2])


def test_a_scene_without_a_well_is_an_error_naming_it(tmp_path):
    folder = tmp_path / "plate"
    folder.mkdir()
    _write_scenes(folder / "run.ome.tif", ["A01", "Position 2"])
    with pytest.raises(InputError, match=r"run\.ome\.tif: scene 1 \('Position 2'\) names no well"):
        discover_planes(DiscoveryConfig(folder, layout="scenes", plate="p"))


def test_a_file_of_scenes_outside_the_scenes_layout_is_an_error(tmp_path):
    folder = tmp_path / "plate"
    folder.mkdir()
    _write_scenes(folder / "A01_s1.ome.tif", ["A01", "A02"])
    config = DiscoveryConfig(folder, pattern=r"(?P<well>[A-P]\d{2})_s(?P<site>\d)", plate="p")
    with pytest.raises(InputError, match=r"holds 2 scenes .*input\.layout: scenes"):
        discover_planes(config)


def test_cli_ingest_of_a_file_of_scenes_writes_each_scene_as_a_field(tmp_path):
    """Through the command line: the plate holds every scene's pixels where its well is."""
    from platefocus.io.fields import field_array, list_fields
    from platefocus.io.plate_input import read_plate_manifest

    folder = tmp_path / "plate"
    folder.mkdir()
    stacks = _write_scenes(folder / "run.ome.tif", ["C02-1", "C02-2", "D05-1"])
    out = tmp_path / "p.ome.zarr"
    cli = str(Path(sys.executable).parent / "platefocus")
    subprocess.run(
        [cli, "ingest", "--layout", "scenes", "--input", str(folder), "--output", str(out),
         "--pixel-size-um", "0.65", "--z-step-um", "2"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    manifest, _ = read_plate_manifest(out)
    refs = {(r.well, r.site): r for r in list_fields(manifest)}
    assert sorted(refs) == [("C02", 1), ("C02", 2), ("D05", 1)]
    for scene, key in enumerate([("C02", 1), ("C02", 2), ("D05", 1)]):
        np.testing.assert_array_equal(np.asarray(field_array(out, refs[key])), stacks[scene])
