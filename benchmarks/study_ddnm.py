"""DDNM's sampling settings, measured on the held-out pairs of a trained checkpoint.

The prior is trained once (``make compare`` trains ``ddnm`` on the demo plate); how it
restores is decided at sampling time: where sampling starts (``start``, a fraction of the
noise schedule; 1 = pure noise, as DDNM's paper), how many DDIM steps, and DDNM+'s
Tikhonov ``regularisation`` of the range-null projection. Each variant restores every
held-out pair (64 x 64 patches, the operator of each pair's dz) and is scored like the
model comparison (PSNR / SSIM per |dz| against the in-focus target), beside the input and
the projection alone (the observation projected, no prior: ``A^+ y``'s Tikhonov
deconvolution), which shows what the prior adds.

    python benchmarks/study_ddnm.py --checkpoint results/demo/models/ddnm/checkpoint.pt

Last line: ``<variant>_psnr_dz<d>=..`` for every variant and |dz|, ``input_psnr_dz<d>``,
and ``seconds_<variant>`` (wall time of the variant on this machine, CPU).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

#: name -> sampling settings changed from the checkpoint's
VARIANTS = {
    "checkpoint": {},
    "start_1.0": {"start": 1.0},
    "start_0.3": {"start": 0.3},
    "start_0.1": {"start": 0.1},
    "steps_25": {"sampling_steps": 25},
    "lam_0.1": {"regularisation": 0.1},
    "lam_10": {"regularisation": 10.0},
}


def restore_with(model, settings: dict, store: Path, table: pd.DataFrame, threads: int):
    """Held-out metrics per |dz| (both sides) of the model under ``settings``, and the
    seconds it took."""
    import torch

    from platefocus.train.evaluate import evaluate_split, summarise_by_dz

    torch.set_num_threads(threads)
    saved = {k: getattr(model, k) for k in settings}
    for key, value in settings.items():
        setattr(model, key, value)
    try:
        start = time.perf_counter()
        per_pair = evaluate_split(model, store, table)
        seconds = time.perf_counter() - start
    finally:
        for key, value in saved.items():
            setattr(model, key, value)
    by_dz = summarise_by_dz(per_pair)
    return by_dz[by_dz["side"] == "both"].set_index("abs_dz"), seconds


class ProjectionOnly:
    """The observation deconvolved by the range-null step alone (the prior's estimate
    replaced by the observation itself): what DDNM would give with no prior."""

    takes_offset = True

    def __init__(self, model):
        self.model = model

    def eval(self):
        return self

    def __call__(self, x, dz):
        import torch

        from platefocus.consistency.projection import project

        out = []
        for tile, d in zip(x[:, 0].numpy(), dz.tolist(), strict=True):
            kernel = self.model.kernel_for(d).numpy()
            lam = self.model.regularisation
            out.append(project(tile, tile, kernel, lam))
        return torch.from_numpy(np.stack(out).astype(np.float32))[:, None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--checkpoint", type=Path, default=Path("results/demo/models/ddnm/checkpoint.pt")
    )
    parser.add_argument("--pairs", type=Path, default=Path("results/demo/dataset"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()

    from platefocus.model_io.checkpoint import load_model

    model, _ = load_model(args.checkpoint)
    table = pd.read_parquet(args.pairs / "pairs.parquet")
    store = args.pairs / "pairs.zarr"
    results = {}
    for name in ["projection_only", *args.variants]:
        runner = ProjectionOnly(model) if name == "projection_only" else model
        results[name] = restore_with(runner, VARIANTS.get(name, {}), store, table, args.threads)
        print(f"{name}: {results[name][1]:.1f} s", flush=True)
    first = next(iter(results.values()))[0]
    dzs = first.index.tolist()
    rows = [{"variant": "input", **_metrics(first, dzs, "input")}]
    summary = {f"input_psnr_dz{d}": first.loc[d, "psnr_input"] for d in dzs}
    for name, (by_dz, seconds) in results.items():
        settings = {**_settings(model), **VARIANTS.get(name, {})}
        rows.append({"variant": name, **_metrics(by_dz, dzs, "pred"), "seconds": seconds})
        if name != "projection_only":
            rows[-1].update(settings)
        summary.update({f"{name}_psnr_dz{d}": by_dz.loc[d, "psnr_pred"] for d in dzs})
        summary[f"seconds_{name}"] = seconds
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    print(" ".join(f"{k}={v:.3f}" for k, v in summary.items()))


def _metrics(by_dz: pd.DataFrame, dzs: list, which: str) -> dict:
    return {
        **{f"psnr_dz{d}": by_dz.loc[d, f"psnr_{which}"] for d in dzs},
        **{f"ssim_dz{d}": by_dz.loc[d, f"ssim_{which}"] for d in dzs},
    }


def _settings(model) -> dict:
    return {k: getattr(model, k) for k in ("start", "sampling_steps", "regularisation")}


if __name__ == "__main__":
    main()
