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


def test_unlock_refuses_while_a_job_outlives_its_snakemake(tmp_path):
    """Only Snakemake was killed; one of its jobs still writes. The job's own lock file
    (not its command line, which says python) keeps `platefocus unlock` from removing the
    run's lock; once the job ends, unlock does."""
    job = subprocess.Popen(
        [
            str(BIN / "python"),
            "-c",
            "import time, sys\n"
            "from platefocus.logs import run_step\n"
            "run_step(lambda: (print('running', flush=True), time.sleep(60)), sys.argv[1])",
            str(tmp_path / "job.log"),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert job.stdout.readline().strip() == "running"
    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.output.lock").write_text("x")
    unlock = [str(BIN / "platefocus"), "unlock", "--directory", str(tmp_path)]
    try:
        alive = subprocess.run(unlock, capture_output=True, text=True, timeout=60)
    finally:
        job.kill()
        job.wait()
    assert alive.returncode == 1 and f"PID {job.pid}" in alive.stderr, alive.stderr
    assert "Traceback" not in alive.stderr and locks.is_dir()
    done = subprocess.run(unlock, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not locks.exists()
