"""Why DeRestormer did not restore at the comparison's budget, measured.

Trains DeRestormer (the comparison's settings: levels 3, width 16, 8 points) on one pair
store with the comparison's budget (``training`` of config/config.yaml: batch 16, 25 steps
per epoch, AdamW 2e-3, warm-up and cosine decay, the default loss) in several variants,
never stopping early, and evaluates the best-validation checkpoint of each on the held-out
pairs. Variants (each changes one thing from the one before, or from the baseline):

- ``baseline``: the shared settings (lr 2e-3, no clipping); ``patience`` 0 so the whole
  curve is seen,
- ``offset_lr_0.1``: the offset predictors train at 0.1x the learning rate (DCNv2,
  Deformable DETR),
- ``offset_lr_0.1_clip``: and gradients clipped to norm 1 (Restormer's own training clips),
- ``lr_5e-4``: the baseline at a quarter of the learning rate,
- ``lr_5e-4_clip``: and gradients clipped to norm 1 (config/comparison.yaml's setting),
- ``lr_1e-3_clip``: half the shared rate, clipped.

Printed: the validation loss per epoch of each variant, the epoch early stopping
(patience 5) would have ended it, and held-out PSNR/SSIM per |dz| against the input.
Last line: ``<variant>_ssim_dz<d>=..`` and ``input_ssim_dz<d>=..`` pairs, and
``<variant>_stop_epoch=..``.

    python benchmarks/study_derestormer.py --pairs results/demo/dataset --epochs 20
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pandas as pd
import yaml

VARIANTS = {
    "baseline": dict(model_kwargs=dict(offset_lr_scale=1.0), lr=2e-3, grad_clip=None),
    "offset_lr_0.1": dict(model_kwargs=dict(offset_lr_scale=0.1), lr=2e-3, grad_clip=None),
    "offset_lr_0.1_clip": dict(model_kwargs=dict(offset_lr_scale=0.1), lr=2e-3, grad_clip=1.0),
    "lr_5e-4": dict(model_kwargs=dict(offset_lr_scale=1.0), lr=5e-4, grad_clip=None),
    # the comparison's setting now (config/comparison.yaml), and twice its rate
    "lr_5e-4_clip": dict(lr=5e-4, grad_clip=1.0),
    "lr_1e-3_clip": dict(lr=1e-3, grad_clip=1.0),
}


def early_stop_epoch(val_loss: list[float], patience: int = 5) -> int:
    """The epoch (1-based) after which ``patience`` epochs without a better validation
    loss would have stopped training; the last epoch when it never would."""
    best, stale = float("inf"), 0
    for epoch, value in enumerate(val_loss, start=1):
        if value < best:
            best, stale = value, 0
        else:
            stale += 1
        if stale >= patience:
            return epoch
    return len(val_loss)


def run_variant(name: str, change: dict, pairs: Path, epochs: int, threads: int) -> dict:
    from _study import train_and_score

    from platefocus.train.loop import TrainConfig

    defaults = yaml.safe_load(Path("config/config.yaml").read_text())["training"]
    comparison = yaml.safe_load(Path("config/comparison.yaml").read_text())["training"]
    training = {**defaults, "models": comparison["models"], "epochs": epochs, "patience": 0}
    config = TrainConfig.from_config(training, "derestormer", threads)
    kwargs = {**config.model_kwargs, **change.get("model_kwargs", {})}
    others = {k: v for k, v in change.items() if k != "model_kwargs"}
    config = dataclasses.replace(config, model_kwargs=kwargs, **others)
    by_dz, history, seconds = train_and_score(config, pairs)
    return dict(name=name, history=history, by_dz=by_dz, seconds=seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=Path, default=Path("results/demo/dataset"))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    results = []
    for name in args.variants:
        result = run_variant(name, VARIANTS[name], args.pairs, args.epochs, args.threads)
        val = result["history"]["val_loss"].round(4).tolist()
        print(f"{name}: {result['seconds']:.0f} s, validation loss per epoch {val}", flush=True)
        results.append(result)
    dzs = results[0]["by_dz"].index.tolist()
    rows = [
        {
            "model": "input",
            **{f"ssim_dz{d}": results[0]["by_dz"].loc[d, "ssim_input"] for d in dzs},
            **{f"psnr_dz{d}": results[0]["by_dz"].loc[d, "psnr_input"] for d in dzs},
        }
    ]
    summary = {}
    for r in results:
        stop = early_stop_epoch(r["history"]["val_loss"].tolist())
        best = int(r["history"]["val_loss"].idxmin()) + 1
        rows.append(
            {
                "model": r["name"],
                "best_epoch": best,
                "patience5_stop": stop,
                **{f"ssim_dz{d}": r["by_dz"].loc[d, "ssim_pred"] for d in dzs},
                **{f"psnr_dz{d}": r["by_dz"].loc[d, "psnr_pred"] for d in dzs},
            }
        )
        summary[f"{r['name']}_stop_epoch"] = stop
        summary.update({f"{r['name']}_ssim_dz{d}": r["by_dz"].loc[d, "ssim_pred"] for d in dzs})
    summary.update({f"input_ssim_dz{d}": results[0]["by_dz"].loc[d, "ssim_input"] for d in dzs})
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    print(
        " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items())
    )


if __name__ == "__main__":
    main()
