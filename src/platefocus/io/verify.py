"""Is a field that a killed run marked done still whole? Checked before a rerun skips it.

A chunk damaged after its field was marked done (a truncated file, a disk that lost a
write) would otherwise be kept by every rerun and fail, or crash, much later in a reader
that names no field. Every Blosc chunk file starts with a 16-byte header whose bytes 12-15
hold the frame's total size (header included, little-endian): a file of another size is
damaged. Reading 16 bytes of each chunk costs a directory walk and one small read per
chunk, paid only for fields a rerun would skip (a fresh run checks nothing). Decoding
every chunk would also catch damage that keeps the size, at the cost of a second read of
the plate; it is not done (decoding a damaged Blosc frame is what crashed Python).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

BLOSC_HEADER = 16


def _is_blosc(array_dir: Path) -> bool:
    """Whether an array's (Zarr v3) codec chain ends in Blosc (its chunks are frames)."""
    try:
        meta = json.loads((array_dir / "zarr.json").read_text())
    except (OSError, ValueError):
        return False
    codecs = meta.get("codecs") or []
    return bool(codecs) and codecs[-1].get("name") == "blosc"


def damaged_chunks(plate_path: str | os.PathLike, path: str) -> list[str]:
    """Chunk files of the image at ``path`` (every pyramid level) whose size disagrees with
    their Blosc header; ``[]`` for a whole field (or one not written with Blosc)."""
    image = Path(plate_path) / path
    damaged = []
    for array_dir in sorted(p.parent for p in image.glob("*/zarr.json")):
        if not _is_blosc(array_dir):
            continue
        for chunk in sorted((array_dir / "c").rglob("*")):
            if not chunk.is_file():
                continue
            with open(chunk, "rb") as file:
                header = file.read(BLOSC_HEADER)
            size = chunk.stat().st_size
            if len(header) < BLOSC_HEADER or int.from_bytes(header[12:16], "little") != size:
                damaged.append(chunk.relative_to(plate_path).as_posix())
    return damaged


def require_whole(plate_path: str | os.PathLike, paths: list[str]) -> None:
    """Raise :class:`~platefocus.errors.InputError` naming the first field (image path)
    of a published plate with a damaged chunk, before anything reads it (a damaged Blosc
    frame read later fails with an error that names no field, or crashes)."""
    from platefocus.errors import InputError

    for path in paths:
        damaged = damaged_chunks(plate_path, path)
        if damaged:
            raise InputError(
                f"{plate_path}/{path}",
                f"{len(damaged)} damaged chunk(s), e.g. {damaged[0]}: ingest the plate again",
            )
