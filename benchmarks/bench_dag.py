"""How fast Snakemake builds the DAG of a plate at HPC scale, with the SLURM profile.

Workload: a synthetic discovery table of a 1536-well plate (32 x 48), ``--sites`` fields
per well, ``--planes`` planes, one channel, as ``discover_plate`` writes it, plus its
block plan (``blocks.wells_per_job`` wells per job). No image is written: the dry run
only reads the block plan. ``snakemake -n --profile profiles/slurm`` then plans every
job downstream of discovery; the benchmark times it (best of ``--repeats``) and counts
the jobs, per rule, against the design: five jobs per block (ingest_wells, score_focus,
select_targets, restore_wells, compare_segmentation) plus the per-plate jobs.

    python benchmarks/bench_dag.py [--wells-per-job 16] [--sites 9] [--planes 30]

Last line: ``dag_seconds=<x> jobs=<n>``.
"""

from __future__ import annotations

import argparse
import re
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from platefocus.io.atomic import write_table
from platefocus.io.blocks import write_block_plan

REPO = Path(__file__).resolve().parents[1]
PER_BLOCK_RULES = (
    "ingest_wells",
    "score_focus",
    "select_targets",
    "restore_wells",
    "compare_segmentation",
)


def discovery_table(
    plate: str, rows: list[str], columns: int, sites: int, planes: int, shape: str
) -> pd.DataFrame:
    """A plate's discovery table as ``discover_plate`` writes it, one row per plane."""
    return pd.DataFrame(
        [
            dict(
                plate=plate,
                well=f"{r}{c:02d}",
                row=r,
                column=c,
                site=site,
                channel=1,
                z=z,
                path=f"/data/{plate}/z{z:02d}/{plate}_{r}{c:02d}_s{site}_w1.tif",
                shape=shape,
                dtype="uint16",
                field=site - 1,
            )
            for r in rows
            for c in range(1, columns + 1)
            for site in range(1, sites + 1)
            for z in range(planes)
        ]
    )


def write_discovery(base: Path, table: pd.DataFrame, wells_per_job: int) -> int:
    """Write a plate's discovery outputs (table, empty QC, block plan) under ``base``
    (``results/<plate>``); returns the number of blocks."""
    write_table(table, base / "ingest" / "discovered.parquet")
    write_table(
        pd.DataFrame(columns=["plate", "well", "site", "path", "problem"]),
        base / "ingest" / "discovery_qc.tsv",
    )
    return write_block_plan(table["well"].unique(), wells_per_job, base / "blocks.json")


def plate_1536(sites: int, planes: int) -> pd.DataFrame:
    """The discovery table of a 1536-well plate, one row per (well, site, z) plane."""
    rows = [*string.ascii_uppercase, "AA", "AB", "AC", "AD", "AE", "AF"]
    return discovery_table("hpc", rows, 48, sites, planes, "2048x2048")


def dry_run(work: Path, config: Path) -> tuple[float, str]:
    cmd = [
        str(Path(sys.executable).parent / "snakemake"),
        "-n",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(work),
        "--profile",
        str(REPO / "profiles" / "slurm"),
        "--workflow-profile",
        "none",
        "--configfile",
        str(REPO / "config" / "config.yaml"),
        str(config),
        "--quiet",
        "rules",
    ]
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"snakemake -n failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return seconds, out.stdout + out.stderr


def job_counts(text: str) -> dict[str, int]:
    """Per-rule job counts from Snakemake's job-stats table."""
    counts = {}
    for name, n in re.findall(r"^(\w+)\s+(\d+)\s*$", text, flags=re.M):
        counts[name] = int(n)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wells-per-job", type=int, default=16)
    parser.add_argument("--sites", type=int, default=9)
    parser.add_argument("--planes", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "images").mkdir()
        base = work / "results" / "hpc"
        table = plate_1536(args.sites, args.planes)
        blocks = write_discovery(base, table, args.wells_per_job)
        config = work / "hpc.yaml"
        config.write_text(
            "plates: [hpc]\n"
            "synthetic: {enabled: false}\n"
            f"input: {{root: {work / 'images'}}}\n"
            "truth: {root: null}\n"
            f"blocks: {{wells_per_job: {args.wells_per_job}}}\n"
            "cluster: {account: lab, partition: cpu, gpu_partition: gpu}\n"
        )
        times, text = [], ""
        for _ in range(args.repeats):
            seconds, text = dry_run(work, config)
            times.append(seconds)
    counts = job_counts(text)
    total = counts.pop("total", sum(counts.values()))
    per_block = {r: counts.get(r, 0) for r in PER_BLOCK_RULES}
    expected_block_jobs = blocks * len(PER_BLOCK_RULES)

    fields = table.groupby(["well", "site"]).ngroups
    print(f"plate: 1536 wells x {args.sites} fields = {fields} fields, {len(table)} planes")
    print(f"blocks: {blocks} of <= {args.wells_per_job} wells")
    print(f"{'rule':<24}{'jobs':>8}")
    for rule, n in counts.items():
        print(f"{rule:<24}{n:>8}")
    print(f"{'total':<24}{total:>8}")
    print(f"dry runs (s): {', '.join(f'{t:.1f}' for t in times)}")
    ok = all(n == blocks for n in per_block.values())
    print(
        f"per-block rules: {sum(per_block.values())} jobs, expected {expected_block_jobs}: "
        f"{'as designed' if ok else 'NOT as designed'}"
    )
    print(f"dag_seconds={min(times):.2f} jobs={total}")


if __name__ == "__main__":
    main()
