"""Non-finite pixels are a bad file at ingest, named with the file and the count."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from platefocus.errors import InputError
from platefocus.io.discover import DiscoveryConfig, discover_planes
from platefocus.io.ingest import ingest_plate
from platefocus.io.layouts import BBBC006_PATTERN
from platefocus.io.omezarr import Acquisition


def _float_plate(root, bad_pixels: int) -> None:
    rng = np.random.default_rng(0)
    for well in ("a01", "a02"):
        for z in range(3):
            plane = rng.random((20, 24)).astype(np.float32)
            if well == "a02" and z == 1:
                plane.flat[:bad_pixels] = np.nan
                plane.flat[bad_pixels : bad_pixels + 1] = np.inf
            path = root / f"img_z_{z:02d}" / f"p_{well}_s1_w1.tif"
            path.parent.mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(path, plane)


@pytest.mark.parametrize("workers", [1, 2])
def test_non_finite_pixels_are_a_bad_file(tmp_path, workers):
    """Found while decoding (not in the header check): in this thread with one worker,
    as tasks of the plane pool with two."""
    _float_plate(tmp_path / "in", bad_pixels=115)
    manifest = discover_planes(DiscoveryConfig(tmp_path / "in", BBBC006_PATTERN))
    with pytest.raises(InputError, match=r"116 non-finite pixel") as err:
        ingest_plate(
            manifest, tmp_path / "p.ome.zarr", Acquisition(1, 1), workers=workers, progress=False
        )
    assert "p_a02_s1_w1.tif" in str(err.value) and "img_z_01" in str(err.value)
    assert not (tmp_path / "p.ome.zarr").exists()
    assert not list(tmp_path.glob(".*partial*"))
    result = ingest_plate(
        manifest,
        tmp_path / "q.ome.zarr",
        Acquisition(1, 1),
        on_bad_file="skip",
        workers=workers,
        progress=False,
    )
    assert set(result.manifest["well"]) == {"A01"}
    assert result.qc["problem"].str.contains("116 non-finite").all()


def test_stack_file_named_as_one_plane_is_not_cut_to_its_first_page(tmp_path):
    """A multi-page file whose name gives one z was silently read as its first page."""
    stack = np.arange(3 * 20 * 24, dtype=np.uint16).reshape(3, 20, 24)
    for well in ("a01", "a02"):
        path = tmp_path / "in" / "img_z_00" / f"p_{well}_s1_w1.tif"
        path.parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(path, stack, metadata={"axes": "ZYX"}, imagej=True)
    manifest = discover_planes(DiscoveryConfig(tmp_path / "in", BBBC006_PATTERN))
    with pytest.raises(InputError, match=r"holds 3 planes .* names 1"):
        ingest_plate(manifest, tmp_path / "p.ome.zarr", Acquisition(1, 1), progress=False)
    assert not (tmp_path / "p.ome.zarr").exists()
