"""Outputs built by several jobs: a ``.<name>.partial`` folder with per-field done markers.

Jobs write disjoint fields into the partial folder and mark each field done after it is
written; a finalising step checks that every field is marked, writes the plate metadata
and renames the folder into place. A killed job leaves only unmarked fields, which its
rerun writes again. A marker holds a *stamp* (a digest of what the field was made from:
the input manifest, the checkpoint and settings), so a field left by a run with other
inputs is not mistaken for done.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from platefocus.errors import InputError
from platefocus.kill_points import reached

log = logging.getLogger(__name__)


def partial_path(out_path: str | os.PathLike) -> Path:
    """Where an unfinished output is built: ``.<name>.partial`` beside it."""
    out = Path(out_path)
    return out.with_name(f".{out.name}.partial")


def done_marker(partial: str | os.PathLike, row: str, column: int | str, field: int) -> Path:
    """The marker file that says field ``field`` of well ``row``/``column`` is written."""
    return Path(partial) / ".done" / f"{row}{column}_{field}"


def clear_field(partial: str | os.PathLike, row: str, column: int | str, field: int) -> None:
    """Remove whatever an interrupted or stale run left of a field, before rewriting it."""
    shutil.rmtree(Path(partial) / str(row) / str(column) / str(field), ignore_errors=True)


def mark_done(
    partial: str | os.PathLike, row: str, column: int | str, field: int, stamp: str
) -> None:
    """Mark a field as completely written from the inputs that ``stamp`` stands for."""
    marker = done_marker(partial, row, column, field)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(stamp)
    reached("field-done")


def is_done(
    partial: str | os.PathLike, row: str, column: int | str, field: int, stamp: str
) -> bool:
    """Whether a field is marked done with this ``stamp``."""
    marker = done_marker(partial, row, column, field)
    return marker.exists() and marker.read_text() == stamp


def is_done_whole(
    partial: str | os.PathLike, row: str, column: int | str, field: int, stamp: str
) -> bool:
    """Whether a field is marked done with ``stamp`` and none of its chunks is damaged
    (:mod:`platefocus.io.verify`): a rerun skips only such fields, and writes a damaged
    one again (said in the log)."""
    from platefocus.io.verify import damaged_chunks

    if not is_done(partial, row, column, field, stamp):
        return False
    damaged = damaged_chunks(partial, f"{row}/{column}/{field}")
    if damaged:
        log.warning(
            "field %s/%s/%s: %d damaged chunk(s), e.g. %s; writing it again",
            *(row, column, field, len(damaged), damaged[0]),
        )
    return not damaged


def stamp_of(*parts: object) -> str:
    """A short digest of JSON-able ``parts`` (what a field is made from)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def require_done(
    partial: str | os.PathLike,
    fields: Iterable[tuple[str, str, int, str]],
    stamp: str | Mapping[tuple, str],
) -> None:
    """Raise unless every ``(row, column, field, label)`` is marked done with ``stamp``
    (one for all, or one per ``(row, column, field)``)."""

    def expected(row, col, f) -> str:
        return stamp if isinstance(stamp, str) else stamp[(row, col, f)]

    missing = [
        label
        for row, col, f, label in fields
        if not is_done(partial, row, col, f, expected(row, col, f))
    ]
    if missing:
        raise InputError(partial, f"{len(missing)} field(s) not written yet: {missing[:5]}")


def aside_path(out_path: str | os.PathLike) -> Path:
    """Where a finished output waits while its replacement is renamed in: ``.<name>.old``."""
    out = Path(out_path)
    return out.with_name(f".{out.name}.old")


def publish(partial: str | os.PathLike, out_path: str | os.PathLike) -> None:
    """Rename the partial folder to ``out_path``, under the output's writer lock.

    An existing output is renamed aside first, the new one renamed in, then the old one
    deleted: a kill at any step leaves a whole plate, the old one (aside, when the kill
    falls between the renames) or the new one; the final path never holds half of one.
    The done markers go last, once the new plate is in place."""
    from platefocus.io.writer_lock import writer_lock

    partial, out = Path(partial), Path(out_path)
    aside = aside_path(out)
    with writer_lock(out):
        reached("before-publish")
        if aside.exists() and out.exists():
            shutil.rmtree(aside)  # left by a replace killed before its last step
        if out.exists():
            if aside.exists():
                shutil.rmtree(aside)
            os.replace(out, aside)
            reached("publish-aside")
        os.replace(partial, out)
        reached("publish-in")
        shutil.rmtree(out / ".done", ignore_errors=True)
        shutil.rmtree(aside, ignore_errors=True)
