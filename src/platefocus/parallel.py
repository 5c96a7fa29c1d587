"""Running Dask tasks: local threads by default, an existing cluster, or a SLURM cluster.

The ``dask`` settings (config section ``dask``) choose where the tasks of a chunked stage
run:

- nothing set: the threaded scheduler of this process, ``workers`` tasks at a time;
- ``scheduler_address``: attach to a running cluster (``dask scheduler`` on a login
  node, ``dask worker`` jobs on compute nodes), shared by every Snakemake job;
- ``jobqueue``: start a ``dask_jobqueue.SLURMCluster`` for this call with the given
  keyword arguments (``cores``, ``memory``, ``walltime``, ``queue``, ``account``, ...)
  and ``jobs`` worker jobs, then shut it down.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import dask

log = logging.getLogger(__name__)

JOBQUEUE_DEFAULTS = {"cores": 4, "memory": "16GB", "processes": 1, "walltime": "02:00:00"}


def compute(
    tasks: Sequence,
    workers: int = 1,
    dask_settings: dict | None = None,
    progress: bool = True,
) -> list:
    """Compute delayed tasks and return their results in order (see the module doc)."""
    if not tasks:
        return []
    settings = dask_settings or {}
    if settings.get("scheduler_address") or settings.get("jobqueue"):
        from distributed import progress as dist_progress

        with dask_client(settings) as client:
            futures = client.compute(list(tasks))
            if progress:
                dist_progress(futures)
            return list(client.gather(futures))
    from dask.diagnostics import ProgressBar

    bar = ProgressBar(dt=1.0) if progress else None
    if bar:
        bar.register()
    workers = max(1, workers)
    try:
        with ThreadPoolExecutor(workers, initializer=_intra_op_share(workers)) as pool:
            return list(dask.compute(*tasks, scheduler="threads", pool=pool))
    finally:
        if bar:
            bar.unregister()


def _intra_op_share(workers: int) -> Callable[[], None] | None:
    """What each worker thread runs first: torch set to its share of this process's
    intra-op threads (Snakemake's ``OMP_NUM_THREADS``, the job's threads). torch (MKL,
    OpenMP) keeps the setting per thread, so a worker thread otherwise ran its network on
    every core: two workers, twice as many threads as cores
    (``benchmarks/bench_plate.py --scaling``). Nothing when torch is not imported."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    threads = max(1, torch.get_num_threads() // workers)
    return lambda: torch.set_num_threads(threads)


def slurm_cluster_kwargs(jobqueue: dict) -> tuple[dict, int]:
    """Keyword arguments for ``SLURMCluster`` and the number of worker jobs.

    ``None`` values are dropped (so the config can list every key), ``account`` and
    ``queue`` (partition) are passed through, and ``jobs`` (default 1) is split off.
    """
    settings = {k: v for k, v in {**JOBQUEUE_DEFAULTS, **jobqueue}.items() if v is not None}
    jobs = int(settings.pop("jobs", 1))
    return settings, jobs


@contextlib.contextmanager
def dask_client(settings: dict) -> Iterator:
    """A ``distributed.Client`` for ``scheduler_address`` or a new SLURM cluster."""
    from distributed import Client

    if settings.get("scheduler_address"):
        with Client(settings["scheduler_address"]) as client:
            yield client
        return
    from dask_jobqueue import SLURMCluster

    kwargs, jobs = slurm_cluster_kwargs(settings["jobqueue"])
    with SLURMCluster(**kwargs) as cluster:
        cluster.scale(jobs=jobs)
        log.info("started a SLURM Dask cluster of %d job(s):\n%s", jobs, cluster.job_script())
        with Client(cluster) as client:
            yield client
