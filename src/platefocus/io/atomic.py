"""Atomic writes: build the output under a temporary name, then rename it into place."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write to; rename it to ``path`` on success.

    Works for files and folders. On error the temporary is removed and ``path`` is left
    as it was, so a crash never leaves something that looks complete.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.partial-{os.getpid()}")
    _remove(tmp)
    try:
        yield tmp
        if final.is_dir() and tmp.is_dir():
            _remove(final)
        os.replace(tmp, final)
    finally:
        _remove(tmp)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def write_table(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a table atomically; the format follows the suffix (.parquet, .tsv, .csv)."""
    final = Path(path)
    with atomic_path(final) as tmp:
        if final.suffix == ".parquet":
            table.to_parquet(tmp, index=False)
        elif final.suffix == ".tsv":
            table.to_csv(tmp, sep="\t", index=False)
        elif final.suffix == ".csv":
            table.to_csv(tmp, index=False)
        else:
            raise ValueError(f"{final}: unsupported table format {final.suffix!r}")


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a table written by :func:`write_table` (format from the suffix)."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",")


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file (checkpoints are named by it in the output metadata)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def merge_tables(paths: Iterable[str | os.PathLike], out_path: str | os.PathLike) -> pd.DataFrame:
    """Concatenate tables (per-block parts) into one, written atomically; returns it.

    Empty parts are left out unless every part is empty (the columns then come from them).
    """
    merged = concat_tables(paths)
    write_table(merged, out_path)
    return merged


def concat_tables(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Tables (per-block parts) as one; empty parts are left out unless every part is
    empty (the columns then come from them)."""
    tables = [read_table(p) for p in paths]
    return pd.concat([t for t in tables if len(t)] or tables, ignore_index=True)


def remove_outputs(*paths: str | os.PathLike) -> None:
    """Remove files or folders of an output set that failed part-way (missing ones too)."""
    for path in paths:
        _remove(Path(path))
