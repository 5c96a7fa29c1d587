"""Which workflow jobs of a folder are alive, by their own lock files, not process names.

Every job a Snakemake adapter runs (:func:`platefocus.logs.run_step` with a log file)
holds an ``flock`` on ``.snakemake/platefocus-jobs/<pid>`` in its working folder for as
long as it runs. A job outlives its Snakemake process when only Snakemake is killed; its
lock tells :func:`live_jobs` (and so ``platefocus unlock``) that it still writes, whatever
its command line says, and the lock dies with the job.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

#: Where the jobs of a working folder register, relative to it.
JOBS_DIR = Path(".snakemake") / "platefocus-jobs"


@contextlib.contextmanager
def registered_job(workdir: str | os.PathLike = ".") -> Iterator[None]:
    """Hold this process' job lock in ``workdir`` for the block."""
    folder = Path(workdir) / JOBS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / str(os.getpid())
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def live_jobs(workdir: str | os.PathLike = ".") -> list[int]:
    """PIDs of the jobs still running in ``workdir``; the files of dead ones are removed."""
    folder = Path(workdir) / JOBS_DIR
    if not folder.is_dir():
        return []
    alive = []
    for path in sorted(folder.iterdir()):
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue  # finished while we looked
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            alive.append(int(path.name) if path.name.isdigit() else -1)
        else:
            with contextlib.suppress(OSError):
                path.unlink()  # its job is gone: a stale file
        finally:
            os.close(fd)
    return alive
