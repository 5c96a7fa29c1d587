"""A single-node SLURM cluster on this machine, for the tests that need a real one.

Debian's ``slurmctld``, ``slurmd`` and ``munge`` run as root with a configuration written
to ``/etc/slurm/slurm.conf`` (the Snakemake SLURM job step drops ``SLURM_CONF`` from the
environment of its jobs, so the default path is the only one every command finds). An
existing configuration not written by these tests is never touched: the tests skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

CONF = Path("/etc/slurm/slurm.conf")
MARKER = "# written by platefocus tests/local_slurm.py"
BINARIES = ("slurmctld", "slurmd", "munged", "sbatch", "squeue", "scontrol", "sinfo")


def unavailable_reason() -> str | None:
    """Why a local SLURM cannot be started here, or None if it can."""
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        return f"SLURM binaries missing: {missing} (apt-get install slurmctld slurmd munge)"
    if os.geteuid() != 0:
        return "slurmd must run as root to start jobs as the submitting user"
    if CONF.exists() and not CONF.read_text().startswith(MARKER):
        return f"{CONF} exists and is not ours: a real SLURM is configured, not touching it"
    return None


def _run(*cmd: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=60, **kwargs)


def start_munge() -> None:
    if _run("munge", "-n", check=False).returncode == 0:
        return
    run_dir = Path("/run/munge")
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.chown(run_dir, "munge", "munge")
    _run("su", "-s", "/bin/sh", "munge", "-c", "/usr/sbin/munged")
    for _ in range(50):
        if _run("munge", "-n", check=False).returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError("munged did not start")


def write_config(state: Path, cpus: int = 16, memory_mb: int = 65536) -> None:
    """One node (this host) in one partition ``debug``. The node claims ``cpus`` and
    ``memory_mb`` whatever the machine has (``config_overrides``), so the SLURM profile's
    per-rule requests fit; jobs are not confined (no cgroups in a container)."""
    host = socket.gethostname().split(".")[0]
    for sub in ("state", "spool", "log"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    CONF.parent.mkdir(parents=True, exist_ok=True)
    CONF.write_text(
        f"""{MARKER}
ClusterName=platefocus
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={state}/state
SlurmdSpoolDir={state}/spool
SlurmctldPidFile={state}/slurmctld.pid
SlurmdPidFile={state}/slurmd.pid
SlurmctldLogFile={state}/log/slurmctld.log
SlurmdLogFile={state}/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=600
NodeName={host} CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""
    )


def start(state: Path) -> None:
    """Start munge, slurmctld and slurmd; return once the node is idle."""
    stop()
    start_munge()
    write_config(state)
    _run("slurmctld")
    _run("slurmd")
    for _ in range(150):
        out = _run("sinfo", "-h", "-o", "%T", check=False)
        if out.returncode == 0 and out.stdout.strip() in ("idle", "mixed"):
            return
        time.sleep(0.2)
    raise RuntimeError(f"SLURM node never became idle: {out.stdout} {out.stderr}")


def stop() -> None:
    """Stop the daemons started by :func:`start` (if any) and remove our configuration."""
    if CONF.exists() and CONF.read_text().startswith(MARKER):
        _run("scontrol", "shutdown", check=False)
        for _ in range(50):
            if _run("pgrep", "-x", "slurmd", check=False).returncode != 0:
                break
            time.sleep(0.2)
        _run("pkill", "-x", "slurmd", check=False)
        CONF.unlink()
