"""Ingest to an OME-Zarr HCS plate: round trip, metadata, and every kind of bad input."""

import shutil

import numpy as np
import pandas as pd
import pytest
import tifffile
import zarr
from conftest import BBBC006_PATTERN, plane_files, z_of

from platefocus.errors import InputError
from platefocus.io.discover import DiscoveryConfig, discover_planes
from platefocus.io.ingest import ingest_plate
from platefocus.io.omezarr import Acquisition, open_field

ACQ = Acquisition(pixel_size_um=0.65, z_step_um=2.0, channel_names=("Hoechst",))


@pytest.fixture
def plate_copy(tiny_plate, tmp_path):
    """A writable copy of the tiny plate's images, to damage."""
    root = tmp_path / "images"
    shutil.copytree(tiny_plate / "images", root)
    return root


def discover(root):
    return discover_planes(DiscoveryConfig(root, BBBC006_PATTERN))


def test_round_trip_pixels_identical(tiny_plate, tmp_path):
    out = tmp_path / "plate.ome.zarr"
    result = ingest_plate(discover(tiny_plate / "images"), out, ACQ, workers=2, progress=False)
    assert result.qc.empty
    assert len(result.manifest) == 18
    assert set(result.manifest.columns) >= {
        "plate",
        "well",
        "site",
        "channel",
        "z",
        "path",
        "shape",
        "dtype",
    }
    for f in plane_files(tiny_plate):
        well = f.name.split("_")[1].upper()
        arr = open_field(out, well[0], int(well[1:]), 0)
        assert arr.shape == (1, 9, 96, 96)
        assert arr.chunks == (1, 1, 96, 96)
        np.testing.assert_array_equal(arr[0, z_of(f)], tifffile.imread(f))


def test_opens_with_ome_zarr_reader(tiny_plate, tmp_path):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Plate, Reader

    out = tmp_path / "plate.ome.zarr"
    ingest_plate(discover(tiny_plate / "images"), out, ACQ, progress=False)
    nodes = list(Reader(parse_url(str(out)))())
    assert any(isinstance(s, Plate) for s in nodes[0].specs)
    root = zarr.open_group(str(out), mode="r")
    plate = root.attrs["ome"]["plate"]
    assert root.attrs["ome"]["version"] == "0.5"
    assert [w["path"] for w in plate["wells"]] == ["A/1", "A/2"]
    image = root["A/1/0"].attrs["ome"]
    ms = image["multiscales"][0]
    assert [a["name"] for a in ms["axes"]] == ["c", "z", "y", "x"]
    assert ms["datasets"][0]["coordinateTransformations"][0]["scale"] == [1.0, 2.0, 0.65, 0.65]
    assert len(ms["datasets"]) == 3  # full resolution and two 2x levels for viewers
    assert image["omero"]["channels"][0]["label"] == "Hoechst"
    assert root["A/1/0"].attrs["platefocus"]["z_indices"] == list(range(9))


def assert_fails_cleanly(root, out, match):
    with pytest.raises(InputError, match=match) as info:
        ingest_plate(discover(root), out, ACQ, progress=False)
    assert not out.exists()
    assert not list(out.parent.glob(".*partial*"))
    return info.value


def test_truncated_tiff(plate_copy, tmp_path):
    victim = plane_files(plate_copy.parent)[3]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    err = assert_fails_cleanly(plate_copy, tmp_path / "p.ome.zarr", "truncated|cannot read")
    assert err.where == str(victim)


def test_unreadable_tiff(plate_copy, tmp_path):
    victim = plane_files(plate_copy.parent)[0]
    victim.write_bytes(b"this is not a TIFF")
    err = assert_fails_cleanly(plate_copy, tmp_path / "p.ome.zarr", "cannot read TIFF")
    assert victim.name in str(err)


def test_plane_of_another_shape(plate_copy, tmp_path):
    victim = plane_files(plate_copy.parent)[5]
    tifffile.imwrite(victim, np.zeros((90, 96), np.uint16))
    assert_fails_cleanly(plate_copy, tmp_path / "p.ome.zarr", r"shape 90x96 uint16 differs")


def test_plane_of_another_dtype(plate_copy, tmp_path):
    victim = plane_files(plate_copy.parent)[5]
    tifffile.imwrite(victim, np.zeros((96, 96), np.float32))
    assert_fails_cleanly(plate_copy, tmp_path / "p.ome.zarr", r"96x96 float32 differs")


def test_field_with_missing_planes(plate_copy, tmp_path):
    victim = [f for f in plane_files(plate_copy.parent) if "_a02_" in f.name and z_of(f) == 4]
    victim[0].unlink()
    out = tmp_path / "p.ome.zarr"
    assert_fails_cleanly(plate_copy, out, r"A02 site 1 channel 1 lacks .*z=\[4\]")


def test_skip_mode_records_and_skips_the_field(plate_copy, tmp_path):
    victim = [f for f in plane_files(plate_copy.parent) if "_a02_" in f.name][2]
    victim.write_bytes(b"garbage")
    out = tmp_path / "p.ome.zarr"
    result = ingest_plate(discover(plate_copy), out, ACQ, on_bad_file="skip", progress=False)
    assert result.qc[["well", "site"]].values.tolist() == [["A02", 1]]
    assert victim.name in result.qc["path"].item()
    assert set(result.manifest["well"]) == {"A01"}
    plate = zarr.open_group(str(out), mode="r").attrs["ome"]["plate"]
    assert [w["path"] for w in plate["wells"]] == ["A/1"]


def test_skip_mode_with_nothing_left(plate_copy, tmp_path):
    for f in plane_files(plate_copy.parent)[::9]:
        f.write_bytes(b"garbage")
    with pytest.raises(InputError, match="no field left"):
        ingest_plate(
            discover(plate_copy), tmp_path / "p.ome.zarr", ACQ, on_bad_file="skip", progress=False
        )
    assert not (tmp_path / "p.ome.zarr").exists()


def test_two_plates_in_one_manifest(tiny_plate, tmp_path):
    m = discover(tiny_plate / "images")
    m2 = pd.concat([m, m.assign(plate="other")])
    with pytest.raises(InputError, match=r"2 plates"):
        ingest_plate(m2, tmp_path / "p.ome.zarr", ACQ, progress=False)


def test_bad_on_bad_file_value(tiny_plate, tmp_path):
    with pytest.raises(InputError, match=r"ingest\.on_bad_file"):
        ingest_plate(discover(tiny_plate / "images"), tmp_path / "p", ACQ, on_bad_file="ignore")


def _tree_digest(root):
    import hashlib

    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_ingest_in_blocks_equals_one_ingest(tiny_plate, tmp_path):
    """Blocks of wells written by separate calls, in any order, then finalised, give the
    same bytes as one ingest."""
    from platefocus.io.blocks import plan_blocks
    from platefocus.io.ingest import finalise_ingest, ingest_fields, ingest_stamp, prepare_ingest

    manifest = discover(tiny_plate / "images")
    whole = tmp_path / "whole.ome.zarr"
    ingest_plate(manifest, whole, ACQ, progress=False)

    blocked = tmp_path / "blocked.ome.zarr"
    good, problems = prepare_ingest(manifest)
    assert problems.empty
    blocks = plan_blocks(good["well"].unique(), 1)
    parts = [
        ingest_fields(good, blocked, ACQ, wells=blocks[b], progress=False).manifest
        for b in reversed(range(len(blocks)))
    ]
    half = tmp_path / "half.ome.zarr"
    ingest_fields(good, half, ACQ, wells=blocks[0], progress=False)
    with pytest.raises(InputError, match="not written yet"):  # a block still missing
        finalise_ingest(good, half, ingest_stamp(good, ACQ, 2))
    assert not half.exists()
    finalise_ingest(pd.concat(parts[::-1]), blocked, ingest_stamp(good, ACQ, 2))
    assert _tree_digest(blocked) == _tree_digest(whole)


def test_ingest_rerun_skips_done_fields_and_redoes_stale_ones(tiny_plate, tmp_path):
    from platefocus.io.ingest import ingest_fields, prepare_ingest
    from platefocus.io.partial import partial_path

    good, _ = prepare_ingest(discover(tiny_plate / "images"))
    out = tmp_path / "p.ome.zarr"
    first = ingest_fields(good, out, ACQ, progress=False)
    array = partial_path(out) / "A" / "1" / "0" / "s0" / "zarr.json"
    before = array.stat().st_mtime_ns
    again = ingest_fields(good, out, ACQ, progress=False)  # same inputs: nothing rewritten
    assert array.stat().st_mtime_ns == before
    pd.testing.assert_frame_equal(first.manifest, again.manifest)
    other = Acquisition(pixel_size_um=0.5, z_step_um=2.0, channel_names=("Hoechst",))
    ingest_fields(good, out, other, progress=False)  # other settings: the field is redone
    assert array.stat().st_mtime_ns != before


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("n", [1, 2, 7, 1000, 123457])
def test_display_window_equals_numpy_percentiles(dtype, n):
    """The histogram shortcut for 8/16-bit images gives np.percentile's values."""
    from platefocus.io.omezarr import display_window

    top = 200 if dtype == np.uint8 else 60000
    values = (np.random.default_rng(n).random((n,)) * top).astype(dtype)
    np.testing.assert_allclose(
        display_window(values), np.percentile(values, (0.1, 99.9)), rtol=1e-12, atol=1e-9
    )


def test_a_file_edited_between_kill_and_rerun_redoes_exactly_its_field(plate_copy, tmp_path):
    """Killed after every field was written (not yet published), one input file edited:
    the rerun reads that field again, keeps the others, and the plate holds the new
    pixels."""
    import time

    from platefocus.io.fields import field_array, list_fields
    from platefocus.io.ingest import finalise_ingest, ingest_fields, ingest_stamp, prepare_ingest
    from platefocus.io.partial import partial_path

    good, _ = prepare_ingest(discover(plate_copy))
    out = tmp_path / "p.ome.zarr"
    ingest_fields(good, out, ACQ, progress=False)  # the run that was killed before publishing
    partial = partial_path(out)
    arrays = {p: p.stat().st_mtime_ns for p in partial.glob("*/*/*/s0/zarr.json")}
    edited = sorted(plate_copy.rglob("*.tif"))[0]
    time.sleep(0.01)
    tifffile.imwrite(edited, tifffile.imread(edited) // 2 + 7)
    rerun = ingest_fields(good, out, ACQ, progress=False)
    changed = [p for p, t in arrays.items() if p.stat().st_mtime_ns != t]
    assert len(changed) == 1  # exactly the edited file's field
    finalise_ingest(rerun.manifest, out, ingest_stamp(good, ACQ, 2))
    row = rerun.manifest[rerun.manifest["path"] == str(edited)].iloc[0]
    ref = next(r for r in list_fields(rerun.manifest) if (r.well, r.site) == (row.well, row.site))
    stored = np.asarray(field_array(out, ref))[
        ref.channels.index(row.channel), ref.z_indices.index(row.z)
    ]
    np.testing.assert_array_equal(stored, tifffile.imread(edited))


def test_a_damaged_chunk_of_a_done_field_is_written_again(plate_copy, tmp_path):
    """A chunk truncated after its field was marked done (then the run was killed): the
    rerun finds the damage, writes that field again, and the plate reads back whole."""
    from platefocus.io.fields import field_array, list_fields
    from platefocus.io.ingest import finalise_ingest, ingest_fields, ingest_stamp, prepare_ingest
    from platefocus.io.partial import partial_path
    from platefocus.io.verify import damaged_chunks

    good, _ = prepare_ingest(discover(plate_copy))
    out = tmp_path / "p.ome.zarr"
    ingest_fields(good, out, ACQ, progress=False)
    partial = partial_path(out)
    array = sorted(partial.glob("*/*/*/s0"))[0]
    field = array.parent.relative_to(partial).as_posix()
    chunk = sorted(p for p in (array / "c").rglob("*") if p.is_file())[0]
    chunk.write_bytes(chunk.read_bytes()[:-9])  # truncated
    assert damaged_chunks(partial, field)
    rerun = ingest_fields(good, out, ACQ, progress=False)
    assert not damaged_chunks(partial, field)
    finalise_ingest(rerun.manifest, out, ingest_stamp(good, ACQ, 2))
    for ref in list_fields(rerun.manifest):
        np.asarray(field_array(out, ref))  # every chunk decodes


def test_a_damaged_published_plate_is_reported_naming_the_field(tiny_plate, tmp_path):
    """A chunk of a published plate truncated: focus scoring stops with the field named
    instead of a codec error (or a crash) later."""
    from platefocus.errors import InputError
    from platefocus.io.atomic import write_table
    from platefocus.pipeline.focus import score_focus

    out = tmp_path / "p.ome.zarr"
    result = ingest_plate(discover(tiny_plate / "images"), out, ACQ, progress=False)
    write_table(result.manifest, tmp_path / "manifest.parquet")
    array = sorted(out.glob("*/*/*/s0"))[0]
    chunk = sorted(p for p in (array / "c").rglob("*") if p.is_file())[0]
    chunk.write_bytes(chunk.read_bytes()[:-5])
    field = array.parent.relative_to(out).as_posix()
    with pytest.raises(InputError, match=f"{field}: 1 damaged chunk"):
        score_focus(out, tmp_path / "manifest.parquet", tmp_path / "s.parquet", [2, 2], 20)
    assert not (tmp_path / "s.parquet").exists()
