"""Write a whole Zarr v3 array with its chunks compressed in the calling thread.

Why not ``array[...] = data``: zarr 3 runs every chunk's copy, fill-value check and codec
call as a task of its one event-loop thread, so the worker threads of an ingest queue
behind each other there and a second thread gains almost nothing. Measured on a BBBC006
field (2 x 34 planes of 520 x 696 uint16, one chunk per plane, Blosc LZ4 bit-shuffle):
151 ms per field with zarr's write path on one thread, 138 ms on two; 72 ms and 57 ms
with the chunks compressed here and handed to zarr's store as ready bytes
(``benchmarks/bench_ingest.py`` gives the effect on a whole ingest).

The chunks are encoded with the array's own codecs, read from its metadata: a
``BytesCodec`` (byte order) followed by a ``BloscCodec``, the pair
:data:`platefocus.io.omezarr.COMPRESSOR` makes. Blosc itself is numcodecs' (the library
zarr's codec calls), configured from the codec's settings. Any other codec chain or a sharded
array goes through zarr's own write path. The chunk keys come from the array's metadata
(``encode_chunk_key``) and the bytes go through its store (or, for callers that make a
whole array atomic themselves, straight into the chunk files). The chunk files are byte
for byte those of zarr's own write (tests/io/test_chunk_writer.py). One difference: zarr
leaves out chunks that hold only the fill value; here every chunk is stored.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import Executor
from pathlib import Path

import numcodecs
import numpy as np
import zarr
from zarr.codecs import BloscCodec, BytesCodec
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import LocalStore

_SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}


def write_array(
    array: zarr.Array,
    data: np.ndarray,
    *,
    atomic_chunks: bool = True,
    executor: Executor | None = None,
) -> None:
    """Write ``data`` (the array's whole shape) into ``array``.

    Chunks are compressed in this thread (or as tasks on ``executor``) when the array's
    codecs are bytes + Blosc (see the module's docstring); otherwise
    ``array[...] = data``. Edge chunks are padded with the array's fill value, as zarr
    stores them.

    ``atomic_chunks=False`` (a local store only): each chunk file is written in place by
    the task that compressed it, instead of through zarr's store, which writes a temporary
    file and renames it. Only for callers that make the whole array atomic themselves (a
    field cleared before and marked done after, :mod:`platefocus.io.partial`): a killed
    write leaves partial chunk files. The rename is most of a chunk's cost on a local
    disk: writing a BBBC006 field's 68 compressed planes took 76 ms with a temporary file
    and rename per chunk, 16 ms without (one thread; 31 against 7 ms per field on two).
    """
    data = np.asarray(data)
    if data.shape != array.shape:
        raise ValueError(f"data of shape {data.shape} for an array of shape {array.shape}")
    encoder = _blosc_encoder(array)
    if encoder is None:
        array[...] = data
        return
    dtype = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
    chunk_shape = array.chunks
    fill = array.fill_value
    prefix = array.store_path.path
    keys, chunks = [], []
    for coords in np.ndindex(array.cdata_shape):
        region = zip(coords, chunk_shape, strict=True)
        chunk = data[tuple(slice(i * n, (i + 1) * n) for i, n in region)]
        if chunk.shape != chunk_shape:
            full = np.full(chunk_shape, fill, dtype=dtype)
            full[tuple(slice(0, n) for n in chunk.shape)] = chunk
            chunk = full
        key = array.metadata.encode_chunk_key(coords)
        keys.append(f"{prefix}/{key}" if prefix else key)
        chunks.append(np.ascontiguousarray(chunk, dtype=dtype))
    run = executor.map if executor else map
    store = array.store_path.store
    if not atomic_chunks and isinstance(store, LocalStore):
        root = Path(store.root)
        for folder in {(root / key).parent for key in keys}:
            folder.mkdir(parents=True, exist_ok=True)
        # compressed and written by the same task: the last field of an ingest writes
        # its chunks on every thread
        write = functools.partial(_write_file, root=root, encode=encoder.encode)
        list(run(write, keys, chunks))
        return
    buffer = default_buffer_prototype().buffer
    encoded = run(encoder.encode, chunks)
    items = [(key, buffer.from_bytes(data)) for key, data in zip(keys, encoded, strict=True)]
    sync(_store_all(store, items))


def _write_file(key: str, chunk: np.ndarray, *, root: Path, encode) -> None:
    """The chunk, compressed, as the file ``root / key``, written in place."""
    with open(root / key, "wb") as file:
        file.write(encode(chunk))


async def _store_all(store, items) -> None:
    await asyncio.gather(*(store.set(key, value) for key, value in items))


def _blosc_encoder(array: zarr.Array) -> numcodecs.Blosc | None:
    """numcodecs' Blosc configured as the array's codec, or None for other codec chains."""
    metadata = array.metadata
    if getattr(metadata, "zarr_format", None) != 3 or array.shards is not None:
        return None
    codecs = metadata.codecs
    if len(codecs) != 2 or not isinstance(codecs[0], BytesCodec):
        return None
    if not isinstance(codecs[1], BloscCodec):
        return None
    if array.dtype.itemsize > 1 and codecs[0].endian is not None:
        if codecs[0].endian.value != "little":
            return None
    blosc = codecs[1]
    return numcodecs.Blosc(
        cname=blosc.cname.value,
        clevel=blosc.clevel,
        shuffle=_SHUFFLE[blosc.shuffle.value],
        blocksize=blosc.blocksize,
        typesize=blosc.typesize,
    )
