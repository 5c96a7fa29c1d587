"""Job granularity: a plate's wells in blocks, one Snakemake job per block and stage.

A block plan is decided once, when a plate's files are discovered, and stored as JSON
(``{"wells_per_job": n, "blocks": [[well, ...], ...]}``) so that every later stage and
every rerun cuts the plate the same way.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from platefocus.errors import InputError
from platefocus.io.atomic import atomic_path


def plan_blocks(wells: Sequence[str], wells_per_job: int) -> list[list[str]]:
    """Contiguous runs of at most ``wells_per_job`` sorted, distinct wells."""
    if wells_per_job < 1:
        raise InputError("blocks.wells_per_job", f"must be >= 1, got {wells_per_job}")
    ordered = sorted(set(wells))
    return [ordered[i : i + wells_per_job] for i in range(0, len(ordered), wells_per_job)]


def write_block_plan(wells: Sequence[str], wells_per_job: int, path: str | os.PathLike) -> int:
    """Write the block plan of ``wells`` to ``path`` (atomically); return the block count."""
    blocks = plan_blocks(wells, wells_per_job)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(
            json.dumps({"wells_per_job": wells_per_job, "blocks": blocks}, indent=1) + "\n"
        )
    return len(blocks)


def read_block_plan(path: str | os.PathLike) -> list[list[str]]:
    """The blocks (lists of wells) of a plan written by :func:`write_block_plan`."""
    try:
        plan = json.loads(Path(path).read_text())
        blocks = plan["blocks"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(path, f"not a block plan ({type(err).__name__}: {err})") from None
    return [list(b) for b in blocks]


def block_wells(path: str | os.PathLike, block: int) -> list[str]:
    """The wells of block number ``block`` (0-based) of a plan."""
    blocks = read_block_plan(path)
    if not 0 <= block < len(blocks):
        raise InputError(path, f"block {block} requested, the plan has {len(blocks)}")
    return blocks[block]


def block_manifest(
    manifest_path: str | os.PathLike, blocks_path: str | os.PathLike | None, block: int | None
):
    """The manifest rows of one block of wells (every row without a block plan)."""
    import pandas as pd

    manifest = pd.read_parquet(manifest_path)
    if blocks_path is None or block is None:
        return manifest
    return manifest[manifest["well"].isin(block_wells(blocks_path, block))]
