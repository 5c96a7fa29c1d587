"""Which feature loss helps the ReFocus U-Net, measured on the demo plate's pairs.

ReFocus trained with an ImageNet VGG's activations; platefocus downloads no weights and
offers two stand-ins: ``feature`` (a frozen, seeded, randomly initialised VGG-style
network) and ``feature_plate`` (the same network trained first as a denoising autoencoder
on the plate's own in-focus targets). Each variant trains ``refocus_unet`` with the
comparison's budget (``training`` of config/config.yaml: 20 epochs x 25 steps x 16 pairs,
seed 0, early stopping as configured) and is scored on the held-out pairs (PSNR / SSIM per
|dz|):

- ``none``: L1 only (no feature term),
- ``random``: 0.8 feature + 0.2 L1 (config/protocols/refocus.yaml's loss),
- ``plate``: 0.8 feature_plate + 0.2 L1.

    python benchmarks/study_feature_loss.py --pairs results/demo/dataset

Last line: ``<variant>_psnr_dz<d>=..``, ``<variant>_ssim_dz<d>=..``, the input's, and
``<variant>_seconds=..`` (training wall time, this machine).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import yaml

VARIANTS = {
    "none": {"l1": 1.0},
    "random": {"feature": 0.8, "l1": 0.2},
    "plate": {"feature_plate": 0.8, "l1": 0.2},
}


def run_variant(loss: dict, pairs: Path, threads: int, epochs: int | None) -> tuple:
    from _study import train_and_score

    from platefocus.train.loop import TrainConfig

    training = yaml.safe_load(Path("config/config.yaml").read_text())["training"]
    training = {**training, "models": {"refocus_unet": {"loss": loss}}}
    if epochs:
        training["epochs"] = epochs
    return train_and_score(TrainConfig.from_config(training, "refocus_unet", threads), pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=Path, default=Path("results/demo/dataset"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    results = {}
    for name in args.variants:
        results[name] = run_variant(VARIANTS[name], args.pairs, args.threads, args.epochs)
        print(f"{name}: {results[name][2]:.0f} s, {len(results[name][1])} epochs", flush=True)
    first = next(iter(results.values()))[0]
    dzs = first.index.tolist()
    rows = [
        {
            "variant": "input",
            **{f"psnr_dz{d}": first.loc[d, "psnr_input"] for d in dzs},
            **{f"ssim_dz{d}": first.loc[d, "ssim_input"] for d in dzs},
        }
    ]
    summary = {f"input_psnr_dz{d}": first.loc[d, "psnr_input"] for d in dzs}
    summary.update({f"input_ssim_dz{d}": first.loc[d, "ssim_input"] for d in dzs})
    for name, (by_dz, history, seconds) in results.items():
        rows.append(
            {
                "variant": name,
                "loss": " + ".join(f"{k} {v:g}" for k, v in VARIANTS[name].items()),
                "epochs": len(history),
                **{f"psnr_dz{d}": by_dz.loc[d, "psnr_pred"] for d in dzs},
                **{f"ssim_dz{d}": by_dz.loc[d, "ssim_pred"] for d in dzs},
                "seconds": seconds,
            }
        )
        summary.update({f"{name}_psnr_dz{d}": by_dz.loc[d, "psnr_pred"] for d in dzs})
        summary.update({f"{name}_ssim_dz{d}": by_dz.loc[d, "ssim_pred"] for d in dzs})
        summary[f"{name}_seconds"] = seconds
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    print(" ".join(f"{k}={v:.3f}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
