"""Chunks compressed in the calling thread are the chunks zarr itself writes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import zarr
from zarr.codecs import ZstdCodec

from platefocus.io.chunk_writer import write_array
from platefocus.io.omezarr import COMPRESSOR

CASES = [
    # (shape, chunks, dtype): plane chunks as ingest writes them, and stacks whose edge
    # chunks are partial (zarr pads them with the fill value)
    ((2, 3, 40, 56), (1, 1, 40, 56), np.uint16),
    ((2, 3, 37, 51), (1, 3, 16, 16), np.uint16),
    ((3, 30, 41), (1, 16, 32), np.float32),
    ((5, 33), (4, 8), np.uint8),
]


def _data(shape, dtype, seed=0):
    """Values with no chunk all zero (zarr leaves such chunks out; this writer does not)."""
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return (rng.random(shape) * 1000 + 1).astype(dtype)
    top = np.iinfo(dtype).max
    return rng.integers(1, top, size=shape, endpoint=True).astype(dtype)


def _chunk_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "zarr.json"
    }


def _array(path: Path, shape, chunks, dtype, compressors=COMPRESSOR) -> zarr.Array:
    return zarr.create_array(
        str(path), shape=shape, chunks=chunks, dtype=dtype, compressors=compressors
    )


@pytest.mark.parametrize("atomic_chunks", [True, False])
@pytest.mark.parametrize("threads", [0, 2])
@pytest.mark.parametrize(("shape", "chunks", "dtype"), CASES)
def test_same_chunk_bytes_as_zarrs_own_write(
    tmp_path, shape, chunks, dtype, threads, atomic_chunks
):
    data = _data(shape, dtype)
    theirs = _array(tmp_path / "zarr.zarr", shape, chunks, dtype)
    theirs[...] = data
    ours = _array(tmp_path / "ours.zarr", shape, chunks, dtype)
    if threads:
        with ThreadPoolExecutor(threads) as pool:
            write_array(ours, data, atomic_chunks=atomic_chunks, executor=pool)
    else:
        write_array(ours, data, atomic_chunks=atomic_chunks)
    expected = _chunk_files(tmp_path / "zarr.zarr")
    assert len(expected) == int(np.prod(theirs.cdata_shape))
    assert _chunk_files(tmp_path / "ours.zarr") == expected
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "ours.zarr"))[...], data)


def test_a_rewrite_replaces_every_chunk(tmp_path):
    shape, chunks = (2, 3, 40, 56), (1, 1, 40, 56)
    array = _array(tmp_path / "a.zarr", shape, chunks, np.uint16)
    write_array(array, _data(shape, np.uint16, seed=1), atomic_chunks=False)
    second = _data(shape, np.uint16, seed=2)
    write_array(array, second, atomic_chunks=False)
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "a.zarr"))[...], second)
    assert not [p for p in (tmp_path / "a.zarr").rglob("*") if p.suffix == ".partial"]


def test_other_codecs_go_through_zarr(tmp_path):
    shape, chunks = (2, 30, 41), (1, 16, 32)
    data = _data(shape, np.uint16)
    array = _array(tmp_path / "z.zarr", shape, chunks, np.uint16, compressors=ZstdCodec(level=1))
    write_array(array, data, atomic_chunks=False)
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "z.zarr"))[...], data)


def test_data_of_another_shape_is_refused(tmp_path):
    array = _array(tmp_path / "a.zarr", (2, 8, 8), (1, 8, 8), np.uint16)
    with pytest.raises(ValueError, match=r"shape \(2, 8, 9\)"):
        write_array(array, np.zeros((2, 8, 9), np.uint16))
