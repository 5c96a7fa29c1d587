"""How fast Snakemake plans a screen: 20 plates of 384 wells, one trained model.

Workload: ``--plates`` plates in the BBBC006 geometry (16 x 24 wells, 2 sites, 34
planes, one channel), each with a discovery table and block plan as ``discover_plate``
writes them (no image is written: the dry run only reads the block plans). The first
plate trains (``training.plates``), every plate is restored with its model. ``snakemake
-n --profile profiles/slurm`` plans every job; the benchmark times it (best of
``--repeats``) and checks that the models are trained once, not once per plate.

    python benchmarks/bench_screen_dag.py [--plates 20] [--wells-per-job 16]

Last line: ``dag_seconds_20_plates=<x> jobs=<n> train_jobs=<n>``.
"""

from __future__ import annotations

import argparse
import string
import tempfile
from pathlib import Path

from bench_dag import discovery_table, dry_run, job_counts, write_discovery

MODELS = ("restormer", "unet")  # the default training.models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plates", type=int, default=20)
    parser.add_argument("--wells-per-job", type=int, default=16)
    parser.add_argument("--sites", type=int, default=2)
    parser.add_argument("--planes", type=int, default=34)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    plates = [f"screen{i:02d}" for i in range(1, args.plates + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        blocks = 0
        for plate in plates:
            (work / "images" / plate).mkdir(parents=True)
            # the BBBC006 geometry: 16 x 24 wells of 520 x 696 pixels
            table = discovery_table(
                plate, list(string.ascii_uppercase[:16]), 24, args.sites, args.planes, "520x696"
            )
            blocks += write_discovery(work / "results" / plate, table, args.wells_per_job)
        config = work / "screen.yaml"
        config.write_text(
            f"plates: [{', '.join(plates)}]\n"
            "synthetic: {enabled: false}\n"
            f"input: {{root: '{work / 'images'}/{{plate}}'}}\n"
            "truth: {root: null}\n"
            f"training: {{plates: [{plates[0]}]}}\n"
            f"blocks: {{wells_per_job: {args.wells_per_job}}}\n"
            "cluster: {account: lab, partition: cpu, gpu_partition: gpu}\n"
        )
        times, text = [], ""
        for _ in range(args.repeats):
            seconds, text = dry_run(work, config)
            times.append(seconds)
    counts = job_counts(text)
    total = counts.pop("total", sum(counts.values()))
    train_jobs = counts.get("train_model", 0)

    print(f"screen: {args.plates} plates x 384 wells x {args.sites} sites x {args.planes} planes")
    print(f"blocks: {blocks} of <= {args.wells_per_job} wells, over all plates")
    print(f"{'rule':<24}{'jobs':>8}")
    for rule, n in counts.items():
        print(f"{rule:<24}{n:>8}")
    print(f"{'total':<24}{total:>8}")
    print(f"dry runs (s): {', '.join(f'{t:.1f}' for t in times)}")
    verdict = "once" if train_jobs == len(MODELS) else "NOT once"
    print(f"training: {train_jobs} jobs for {len(MODELS)} models: trained {verdict}")
    print(f"dag_seconds_{args.plates}_plates={min(times):.2f} jobs={total} train_jobs={train_jobs}")


if __name__ == "__main__":
    main()
