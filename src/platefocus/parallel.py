"""Running Dask tasks: local threads by default, or an existing cluster, with progress."""

from __future__ import annotations

from collections.abc import Sequence

import dask


def compute(
    tasks: Sequence,
    workers: int = 1,
    scheduler_address: str | None = None,
    progress: bool = True,
) -> list:
    """Compute delayed tasks and return their results in order.

    ``scheduler_address`` attaches to an existing Dask cluster; otherwise the threaded
    scheduler runs ``workers`` tasks at a time.
    """
    if not tasks:
        return []
    if scheduler_address:
        from distributed import Client
        from distributed import progress as dist_progress

        with Client(scheduler_address) as client:
            futures = client.compute(list(tasks))
            if progress:
                dist_progress(futures)
            return list(client.gather(futures))
    from dask.diagnostics import ProgressBar

    bar = ProgressBar(dt=1.0) if progress else None
    if bar:
        bar.register()
    try:
        return list(dask.compute(*tasks, scheduler="threads", num_workers=max(1, workers)))
    finally:
        if bar:
            bar.unregister()
