"""An OME-Zarr HCS plate as input: validated, listed from its metadata, used in place."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import zarr
from ome_zarr.format import FormatV04, FormatV05
from ome_zarr.writer import write_image, write_plate_metadata, write_well_metadata

from platefocus.errors import InputError
from platefocus.io.atomic import read_table
from platefocus.io.fields import field_array, list_fields
from platefocus.pipeline.ingest import discover_plate, ingest_plate, ingest_wells

WELLS = [("B", "3"), ("B", "4"), ("C", "3")]


def write_foreign_plate(path, fmt=None) -> dict:
    """An HCS plate as another tool writes it (``ome_zarr.writer``; NGFF 0.5 unless
    ``fmt`` says 0.4): tczyx images, 0.5 um pixels, 2 um z-step, no platefocus metadata."""
    fmt = fmt or FormatV05()
    root = zarr.open_group(str(path), mode="w", zarr_format=3 if fmt.version == "0.5" else 2)
    write_plate_metadata(
        root,
        ["B", "C"],
        ["3", "4"],
        [f"{r}/{c}" for r, c in WELLS],
        fmt=fmt,
        name="foreign",
    )
    images = {}
    rng = np.random.default_rng(0)
    for r, c in WELLS:
        well = root.require_group(r).require_group(c)
        write_well_metadata(well, [{"path": "0"}], fmt=fmt)
        image = rng.integers(0, 4000, (1, 2, 5, 24, 32), dtype=np.uint16)
        write_image(
            image,
            well.require_group("0"),
            axes="tczyx",
            fmt=fmt,
            scale={"z": 2.0, "y": 0.5, "x": 0.5},
            storage_options={"chunks": (1, 1, 1, 24, 32)},
        )
        images[f"{r}0{c}"] = image[0]
    return images


def test_foreign_plate_is_used_in_place(tmp_path):
    source = tmp_path / "in.ome.zarr"
    images = write_foreign_plate(source)
    out = tmp_path / "results"
    discover_plate(
        "foreign",
        {"root": str(source), "layout": "ome-zarr"},
        out / "discovered.parquet",
        out / "discovery_qc.tsv",
        out / "blocks.json",
        wells_per_job=2,
    )
    discovered = pd.read_parquet(out / "discovered.parquet")
    assert len(discovered) == len(WELLS) * 2 * 5
    for block in (0, 1):
        ingest_wells(
            out / "discovered.parquet",
            out / "blocks.json",
            block,
            {"pixel_size_um": 1, "z_step_um": 1},
            out / "plate.ome.zarr",
            out / f"{block}.m.parquet",
            out / f"{block}.qc.tsv",
        )
    ingest_plate(
        out / "discovered.parquet",
        {"pixel_size_um": 1, "z_step_um": 1},
        1,
        out / "discovery_qc.tsv",
        [out / "0.m.parquet", out / "1.m.parquet"],
        [out / "0.qc.tsv", out / "1.qc.tsv"],
        out / "plate.ome.zarr",
        out / "manifest.parquet",
        out / "qc.tsv",
    )
    plate = out / "plate.ome.zarr"
    assert plate.is_symlink() and plate.resolve() == source.resolve()  # no copy
    manifest = pd.read_parquet(out / "manifest.parquet")
    for ref in list_fields(manifest):
        assert ref.channels == (1, 2) and ref.z_indices == tuple(range(5))
        np.testing.assert_array_equal(np.asarray(field_array(plate, ref)), images[ref.well])


def test_not_a_plate_is_a_named_error(tmp_path):
    zarr.open_group(str(tmp_path / "x.zarr"), mode="w", zarr_format=3)
    with pytest.raises(InputError, match="not a valid OME-Zarr plate"):
        discover_plate(
            "x",
            {"root": str(tmp_path / "x.zarr"), "layout": "ome-zarr"},
            tmp_path / "d.parquet",
            tmp_path / "q.tsv",
            tmp_path / "b.json",
            1,
        )


def _discover(source, tmp_path, on_bad_file="error"):
    discover_plate(
        "foreign",
        {"root": str(source), "layout": "ome-zarr"},
        tmp_path / "d.parquet",
        tmp_path / "q.tsv",
        tmp_path / "b.json",
        1,
        on_bad_file,
    )


def test_missing_chunks_are_an_error_naming_the_field_not_zeros(tmp_path):
    import shutil

    source = tmp_path / "in.ome.zarr"
    write_foreign_plate(source)
    chunk = sorted(p for p in (source / "B" / "4" / "0" / "s0" / "c").rglob("*") if p.is_file())[0]
    kept = chunk.read_bytes()
    chunk.unlink()
    with pytest.raises(InputError, match=r"B/4/0.*1 of 10 chunks are missing"):
        _discover(source, tmp_path)
    chunk.write_bytes(kept)
    shutil.rmtree(source / "C" / "3" / "0")
    with pytest.raises(InputError, match=r"C/3/0.*the field is missing"):
        _discover(source, tmp_path)


def test_with_on_bad_file_skip_lost_fields_are_qc_rows(tmp_path):
    """``on_bad_file: skip``: a field with a missing chunk and a missing field become QC
    rows naming them; the other field is used; no plane of a lost field is listed."""
    import shutil

    source = tmp_path / "in.ome.zarr"
    write_foreign_plate(source)
    chunk = sorted(p for p in (source / "B" / "4" / "0" / "s0" / "c").rglob("*") if p.is_file())[0]
    chunk.unlink()
    shutil.rmtree(source / "C" / "3" / "0")
    _discover(source, tmp_path, on_bad_file="skip")
    qc = read_table(tmp_path / "q.tsv")
    assert sorted(qc["well"]) == ["B04", "C03"]
    assert qc["path"].str.endswith("B/4/0").any() and qc["path"].str.endswith("C/3/0").any()
    assert qc["problem"].str.contains("chunks are missing").any()
    discovered = pd.read_parquet(tmp_path / "d.parquet")
    assert set(discovered["well"]) == {"B03"}


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_one_reader_reads_a_foreign_plate_and_the_cli_restores_it(
    tmp_path, tiny_checkpoints, version
):
    """A plate platefocus did not write (``ome_zarr.writer``, NGFF 0.4 and 0.5): the one
    plate reader lists every plane with the plate's sampling, and the CLI's restore path
    restores its planes (it once found none)."""
    from platefocus.io.plate_input import read_plate_manifest
    from platefocus.pipeline.restore import restore_ome_zarr

    source = tmp_path / "in.ome.zarr"
    images = write_foreign_plate(source, FormatV04() if version == "0.4" else FormatV05())
    manifest, acquisition = read_plate_manifest(source)
    assert len(manifest) == len(WELLS) * 2 * 5
    assert (acquisition.pixel_size_um, acquisition.z_step_um) == (0.5, 2.0)
    for ref in list_fields(manifest):
        np.testing.assert_array_equal(np.asarray(field_array(source, ref)), images[ref.well])
    out = tmp_path / "restored.ome.zarr"
    result = restore_ome_zarr(
        tiny_checkpoints["layer"], source, out, planes=[1, 3], tiling={"tile": 32, "overlap": 8}
    )
    assert result["computed"] == len(WELLS)
    restored, _ = read_plate_manifest(out)
    for ref in list_fields(restored):  # the restored plate holds the two planes asked for
        planes = np.asarray(field_array(out, ref))
        assert planes.shape == (1, 2, 24, 32) and planes.std() > 0, planes.shape
