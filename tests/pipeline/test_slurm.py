"""The workflow and the Dask stages on a real (single-node, local) SLURM cluster.

Skipped where SLURM cannot be started (no packages, not root, a real SLURM configured);
under CI (``CI`` set) a missing package fails instead, since ``make test`` installs them.
"""

from __future__ import annotations

import os

import local_slurm
import pandas as pd
import pytest
from conftest import REPO, TINY, snakemake


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    reason = local_slurm.unavailable_reason()
    if reason:
        if os.environ.get("CI") and "missing" in reason:
            pytest.fail(f"{reason}; .ci/run installs them")
        pytest.skip(reason)
    local_slurm.start(tmp_path_factory.mktemp("slurm"))
    yield
    local_slurm.stop()


def test_workflow_with_slurm_executor(slurm, tmp_path, tiny_run):
    """The tiny plate end to end with `--profile profiles/slurm`; same tables as local."""
    cpu_only = tmp_path / "cpu_only.yaml"
    cpu_only.write_text("cluster: {gpus_per_job: 0}\n")
    out = snakemake(
        tmp_path,
        "--profile",
        str(REPO / "profiles" / "slurm"),
        "--workflow-profile",
        "none",
        *TINY,
        str(cpu_only),
        "--jobs",
        "4",
        "--slurm-init-seconds-before-status-checks",
        "5",
        "--slurm-status-command",
        "squeue",
        "--slurm-no-account",
        "--slurm-keep-successful-logs",
        timeout=3000,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    logs = tmp_path / ".snakemake" / "slurm_logs"
    for rule in ("ingest_wells", "score_focus", "train_model", "restore_wells"):
        assert list((logs / f"rule_{rule}").rglob("*.log")), f"{rule} did not run as a SLURM job"
    for table in (
        "manifest.parquet",
        "focus/best_planes.parquet",
        "segmentation/restormer/fields.parquet",
    ):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "results/tiny" / table),
            pd.read_parquet(tiny_run / "results/tiny" / table),
        )


def test_dask_jobqueue_cluster_on_slurm(slurm, tmp_path):
    """`dask.jobqueue` starts Dask workers as SLURM jobs and runs the tasks there."""
    import dask

    from platefocus.parallel import compute

    def where(i):
        return i * i, os.environ.get("SLURM_JOB_ID")

    settings = {
        "jobqueue": {
            "cores": 1,
            "memory": "2GB",
            "walltime": "00:10:00",
            "jobs": 1,
            "log_directory": str(tmp_path),
        }
    }
    results = compute([dask.delayed(where)(i) for i in range(6)], dask_settings=settings)
    assert [r[0] for r in results] == [i * i for i in range(6)]
    assert all(r[1] for r in results), "tasks did not run inside a SLURM job"
