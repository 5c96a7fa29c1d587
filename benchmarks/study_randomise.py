"""How much per-field randomised physics buys on optics the training plate never had.

Two models with the demo's budget (the default config's Restormer, 20 epochs x 25 steps):
``fixed``, trained on a demo-geometry plate at the calibrated default (NA 0.45), and
``randomised``, on a plate of the same geometry whose fields draw their aperture from
[0.4, 0.55], nuclear diameter from [16, 24] um and in-focus electrons from [1400, 2800]
(``synthetic.randomise``). Both restore the same held-out synthetic plates (other seeds),
made with apertures outside the training range (0.35 and 0.65 by default), through the
workflow's restore path with ``restore.checkpoint``; segmentation F1 (IoU > 0.5, the
plates' true labels) per distance from focus.

    cd benchmarks && python study_randomise.py [--work DIR] [--test-apertures 0.35 0.65]

About 25 minutes on 2 cores. Last line: ``f1_raw_na<a>_dz<d>=``, ``f1_<model>_na<a>_dz<d>=``
and ``randomised_minus_fixed_na<a>=`` (mean F1 gain over distances).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
GEOMETRY = {"rows": 2, "columns": 4, "sites": 2, "well_offsets_um": {}}
RANDOMISE = {
    "numerical_aperture": [0.4, 0.55],
    "diameter_um": [16.0, 24.0],
    "peak_electrons": [1400.0, 2800.0],
    "optics_variants": 4,
}
OFFSETS = [-10, -8, -6, -4, -2, 2, 4, 6, 8, 10]


def run(work: Path, config: dict, *targets: str) -> None:
    """One workflow run over the default config with ``config`` merged on top."""
    path = work / f"{config['plates'][0]}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    cmd = [str(SNAKEMAKE), "--snakefile", str(REPO / "Snakefile"), "--directory", str(work)]
    cmd += ["--cores", "2", "--configfile", str(REPO / "config/config.yaml"), str(path)]
    out = subprocess.run([*cmd, "--", *targets], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"workflow failed for {path}:\n{out.stderr[-3000:]}")


def train(work: Path, name: str, seed: int, randomise: dict) -> Path:
    config = {
        "plates": [name],
        "synthetic": {"seed": seed, "overrides": GEOMETRY, "randomise": randomise},
        "dataset": {"offsets": OFFSETS},
        "training": {"models": {"unet": None}},
    }
    target = f"results/{name}/models/restormer/checkpoint.pt"
    run(work, config, target)
    return work / target


def score(work: Path, name: str, aperture: float, seed: int, checkpoint: Path) -> pd.DataFrame:
    """F1 raw and restored per |dz| on a held-out plate made at ``aperture``."""
    config = {
        "plates": [name],
        "synthetic": {
            "seed": seed,
            "overrides": {**GEOMETRY, "optics": {"numerical_aperture": aperture}},
        },
        "training": {"models": {"unet": None}},
        "restore": {
            "checkpoint": str(checkpoint),
            "planes": {"mode": "offsets", "offsets": OFFSETS},
        },
        "consistency": {"enabled": False},
    }
    fields = f"results/{name}/segmentation/restormer/fields.parquet"
    run(work, config, fields)
    planes = pd.read_parquet(work / fields).assign(abs_dz=lambda t: t["dz"].abs())
    return planes.groupby("abs_dz")[["f1_raw", "f1_restored"]].mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None, help="folder (default: temporary)")
    parser.add_argument("--test-apertures", type=float, nargs="+", default=[0.35, 0.65])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        models = {
            "fixed": train(work, "trainfixed", 11, {}),
            "randomised": train(work, "trainrandom", 11, RANDOMISE),
        }
        rows, summary = [], {}
        for k, aperture in enumerate(args.test_apertures):
            tag = f"{aperture:g}".replace(".", "")
            for model, checkpoint in models.items():
                result = score(work, f"test{tag}{model}", aperture, 101 + k, checkpoint)
                for dz, row in result.iterrows():
                    rows.append(dict(aperture=aperture, abs_dz=dz, model=model, **row.to_dict()))
    table = pd.DataFrame(rows)
    wide = table.pivot_table(
        index=["aperture", "abs_dz"], columns="model", values="f1_restored"
    ).join(table.groupby(["aperture", "abs_dz"])["f1_raw"].first())
    print("F1 (IoU > 0.5, true labels) of held-out plates imaged outside the training range")
    print(wide.round(3).to_markdown())
    for (aperture, dz), row in wide.iterrows():
        tag = f"na{aperture:g}_dz{dz:g}".replace(".", "")
        summary[f"f1_raw_{tag}"] = row["f1_raw"]
        summary.update({f"f1_{m}_{tag}": row[m] for m in models})
    for aperture, part in wide.groupby(level="aperture"):
        gain = (part["randomised"] - part["fixed"]).mean()
        summary[f"randomised_minus_fixed_na{aperture:g}".replace(".", "")] = gain
    print(" ".join(f"{k}={v:.3f}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
