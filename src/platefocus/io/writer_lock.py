"""One writer per output: an advisory lock file beside it, held while a process builds or
publishes it.

``.<name>.lock`` beside the output holds the holder's PID; the lock itself is an
``fcntl.flock`` on that file, so it dies with its process (a killed writer never leaves a
stale lock behind, whatever the file says). A second process asking for it is refused at
once with an :class:`~platefocus.errors.InputError` naming the holder's PID. Within one
process the lock is re-entrant (a whole-plate run holds it and its publishing step asks
again). The workflow's block jobs write disjoint fields of one partial plate and do not
take it; Snakemake's own lock keeps two runs out of one folder, and the finalising step
takes this one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from platefocus.errors import InputError

_HELD: dict[Path, int] = {}  # lock file -> depth of re-entry in this process


def lock_path(out_path: str | os.PathLike) -> Path:
    """The lock file of an output: ``.<name>.lock`` beside it."""
    out = Path(out_path)
    return out.with_name(f".{out.name}.lock")


@contextlib.contextmanager
def writer_lock(out_path: str | os.PathLike) -> Iterator[None]:
    """Hold the output's lock for the block, or raise InputError naming the holder."""
    path = lock_path(out_path).resolve()
    if path in _HELD:
        _HELD[path] += 1
        try:
            yield
        finally:
            _HELD[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise InputError(
                out_path, f"another process (PID {holder}) is writing it; wait for it to end"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _HELD[path] = 1
        try:
            yield
        finally:
            del _HELD[path]
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
