"""Image files as microscopes write them: compressed TIFF, BigTIFF, stacks with axes in
their metadata, a clear error for a missing codec, and the real BBBC006 files."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from platefocus.errors import InputError
from platefocus.io.discover import DiscoveryConfig, discover_planes
from platefocus.io.readers import probe_file, read_plane

PLANE = np.random.default_rng(0).integers(0, 4096, (40, 56), dtype=np.uint16)


@pytest.mark.parametrize("compression", [None, "lzw", "deflate", "zstd", "packbits"])
@pytest.mark.parametrize("bigtiff", [False, True])
def test_compressed_planes_read_back_exactly(tmp_path, compression, bigtiff):
    path = tmp_path / "p.tif"
    tifffile.imwrite(path, PLANE, compression=compression, bigtiff=bigtiff)
    info = probe_file(path)
    assert (info.axes, info.plane_shape, info.dtype) == ("YX", (40, 56), np.uint16)
    assert info.compression == ("NONE" if compression is None else info.compression)
    np.testing.assert_array_equal(read_plane(path), PLANE)


def test_missing_codec_names_the_package(tmp_path, monkeypatch):
    path = tmp_path / "p.tif"
    tifffile.imwrite(path, PLANE, compression="lzw")

    def no_codec(*args, **kwargs):
        raise ValueError("<COMPRESSION.LZW: 5> requires the 'imagecodecs' package")

    monkeypatch.setattr(tifffile.TiffFile, "asarray", no_codec)
    monkeypatch.setattr(tifffile.TiffPageSeries, "asarray", no_codec)
    with pytest.raises(InputError, match=r"cannot decode LZW.*pip install imagecodecs") as err:
        read_plane(path)
    assert str(path) in str(err.value)


def _stack(c: int, z: int) -> np.ndarray:
    return np.arange(c * z * 12 * 10, dtype=np.uint16).reshape(c, z, 12, 10)


def test_ome_tiff_stack_axes_and_sampling_from_metadata(tmp_path):
    stack = _stack(2, 3)
    path = tmp_path / "s.ome.tif"
    tifffile.imwrite(
        path,
        stack,
        metadata={"axes": "CZYX", "PhysicalSizeX": 0.325, "PhysicalSizeZ": 1.5},
        compression="zlib",
    )
    info = probe_file(path)
    assert (info.axes, info.shape) == ("CZYX", (2, 3, 12, 10))
    assert info.pixel_size_um == pytest.approx(0.325)
    assert info.z_step_um == pytest.approx(1.5)
    for c in range(2):
        for z in range(3):
            np.testing.assert_array_equal(read_plane(path, info.page(c, z)), stack[c, z])


def test_imagej_hyperstack_zcyx(tmp_path):
    stack = _stack(2, 4).transpose(1, 0, 2, 3)  # (z, c, y, x)
    path = tmp_path / "s.tif"
    tifffile.imwrite(path, stack, imagej=True, metadata={"axes": "ZCYX", "spacing": 2.0})
    info = probe_file(path)
    assert info.axes == "ZCYX"
    assert info.z_step_um is None or info.z_step_um == pytest.approx(2.0)
    np.testing.assert_array_equal(read_plane(path, info.page(1, 3)), stack[3, 1])


def test_multipage_without_axis_metadata_is_an_error(tmp_path):
    path = tmp_path / "pages.tif"
    with tifffile.TiffWriter(path) as tif:
        for plane in _stack(1, 3)[0]:
            tif.write(plane, metadata=None)
    with pytest.raises(InputError, match="axes"):
        probe_file(path)


def test_stack_files_become_planes_of_one_field(tmp_path):
    """A pattern without z and channel: each file is a field's CZYX stack."""
    for well in ("B03", "B04"):
        tifffile.imwrite(
            tmp_path / f"plate1_{well}_s1.ome.tif", _stack(2, 3), metadata={"axes": "CZYX"}
        )
    pattern = r"(?P<plate>[^_/]+)_(?P<well>[A-P]\d{2})_s(?P<site>\d)\.ome\.tif$"
    manifest = discover_planes(DiscoveryConfig(tmp_path, pattern))
    assert len(manifest) == 2 * 2 * 3
    field = manifest[manifest["well"] == "B03"]
    assert sorted(set(zip(field["channel"], field["z"], strict=True))) == [
        (c, z) for c in (1, 2) for z in range(3)
    ]
    row = field[(field["channel"] == 2) & (field["z"] == 1)].iloc[0]
    np.testing.assert_array_equal(read_plane(row["path"], int(row["page"])), _stack(2, 3)[1, 1])


def test_pattern_naming_a_plane_of_a_stack_file_is_an_error(tmp_path):
    tifffile.imwrite(
        tmp_path / "p_B03_s1_z05.tif",
        _stack(1, 3)[0],
        photometric="minisblack",
        metadata={"axes": "ZYX"},
    )
    pattern = r"(?P<well>[A-P]\d{2})_s(?P<site>\d)_z(?P<z>\d+)\.tif$"
    with pytest.raises(InputError, match="holds 3"):
        discover_planes(DiscoveryConfig(tmp_path, pattern))


def test_real_bbbc006_lzw_planes(realdata):
    """The real BBBC006 planes as shipped (LZW): read equal to tifffile + imagecodecs."""
    files = sorted((realdata / "bbbc006").rglob("*.tif"))
    assert len(files) >= 20
    for path in files[:5]:
        info = probe_file(path)
        assert (info.compression, info.plane_shape) == ("LZW", (520, 696))
        np.testing.assert_array_equal(read_plane(path), tifffile.imread(path))


def test_vendor_format_without_its_plugin_names_what_to_install(tmp_path):
    path = tmp_path / "field.nd2"
    path.write_bytes(b"not really nd2")
    with pytest.raises(InputError, match=r"bioio-nd2.*platefocus\[formats\]"):
        probe_file(path)


def test_bioio_reader_matches_tifffile(tmp_path, monkeypatch):
    """The bioio path (used for ND2, CZI, LIF) on a file both libraries read: an OME-TIFF
    taken through bioio-ome-tiff, plane by plane."""
    import platefocus.io.readers as readers

    stack = _stack(2, 3)
    path = tmp_path / "field.ome.tif"
    tifffile.imwrite(path, stack, metadata={"axes": "CZYX", "PhysicalSizeX": 0.5})
    monkeypatch.setattr(readers, "_is_vendor", lambda p: True)
    info = probe_file(path)
    assert (info.axes, info.shape, info.pixel_size_um) == ("CZYX", (2, 3, 12, 10), 0.5)
    for c in range(2):
        for z in range(3):
            np.testing.assert_array_equal(read_plane(path, info.page(c, z)), stack[c, z])


@pytest.mark.parametrize("second", [(16, 16), (32, 32)], ids=["other-shape", "same-shape"])
def test_a_file_of_two_image_series_is_an_error_naming_the_count(tmp_path, second):
    """Two images appended to one file: never ingested with the second one dropped."""
    path = tmp_path / "two.tif"
    tifffile.imwrite(path, np.zeros((32, 32), np.uint16))
    tifffile.imwrite(path, np.ones(second, np.uint16), append=True)
    with pytest.raises(InputError, match=r"two\.tif: holds 2 image series"):
        probe_file(path)
