"""After a SIGKILL the README's rerun works: `platefocus unlock` (run by `make demo`)
removes the killed run's lock, and refuses while a run is alive in the folder."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from conftest import BIN, REPO, TINY, snakemake


@pytest.mark.e2e
def test_unlock_after_a_kill_but_never_under_a_live_run(tmp_path):
    cmd = [str(BIN / "snakemake"), "--snakefile", str(REPO / "Snakefile"), "--cores", "1", *TINY]
    run = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    locks = tmp_path / ".snakemake" / "locks"
    deadline = time.time() + 120
    while not (locks.is_dir() and any(locks.iterdir())) and time.time() < deadline:
        time.sleep(0.5)
    assert any(locks.iterdir()), "the run never took its lock"

    unlock = [str(BIN / "platefocus"), "unlock", "--directory", str(tmp_path)]
    alive = subprocess.run(unlock, capture_output=True, text=True, timeout=60)
    assert alive.returncode == 1 and "still running here" in alive.stderr
    assert any(locks.iterdir())

    os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=60)
    rerun = ("results/tiny/inspect/summary.txt", "--cores", "1", *TINY)
    locked = snakemake(tmp_path, *rerun)
    assert locked.returncode != 0 and "LockException" in locked.stderr  # the old failure
    done = subprocess.run(unlock, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = snakemake(tmp_path, *rerun)
    assert out.returncode == 0, out.stderr[-2000:]
