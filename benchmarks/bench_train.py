"""Training throughput (patches per second) of every architecture at its default size.

Each model runs forward, loss (the default SSIM + L1 + MSE mix) and backward with AdamW on
batches of 16 random 64 x 64 patches (the demo dataset's shape), after warm-up steps,
in one run. On CUDA it also times bfloat16 autocast and ``torch.compile`` against float32
eager.

    python benchmarks/bench_train.py [--steps 10] [--device auto] [--sweep 16,64,256 --patch 64]
        [--compiled-at 256]

``--sweep`` also times the training loop itself (:func:`platefocus.train.loop.train`'s
epoch: indexing, augmentation, loss bookkeeping) with the pairs where the loop keeps them
(on the GPU when they fit) and on the host, against the bare step at the same batch: the
data path's cost.

Last line: ``restormer_patches_per_s=<x> unet_patches_per_s=<y>
derestormer_patches_per_s=<z> dcn_lka_patches_per_s=<w>`` (the default precision of the
device: float32 on CPU, bfloat16 on CUDA), and on CUDA ``restormer_bf16_over_fp32``
and ``restormer_compiled_over_eager`` (bfloat16) ratios; with ``--sweep``,
``restormer_best_batch``, ``restormer_best_patches_per_s`` and ``loop_over_bare`` (the
training loop against the bare step, at the best batch).
"""

from __future__ import annotations

import argparse
import time

import torch

from platefocus.model_io.checkpoint import choose_device
from platefocus.models import build_model
from platefocus.train.losses import WeightedLoss

DEFAULTS = {
    "restormer": {"levels": 3, "width": 16, "norm": "layer"},
    "unet": {},
    "derestormer": {"levels": 3, "width": 16},
    "dcn_lka": {"width": 32, "blocks": 4},
}


def throughput(name, kwargs, device, steps, warmup, bf16=False, compile_=False, batch=16, patch=64):
    torch.manual_seed(0)
    model = build_model(name, **kwargs).to(device)
    run = torch.compile(model) if compile_ else model
    loss_fn = WeightedLoss({"ssim": 0.7, "l1": 0.1, "mse": 0.2})
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.rand(batch, 1, patch, patch, device=device)
    y = torch.rand(batch, 1, patch, patch, device=device)

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            pred = run(x)
        loss = loss_fn(pred.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return steps * batch / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--sweep", default="", help="batch sizes for a Restormer sweep, e.g. 16,64,256"
    )
    parser.add_argument("--patch", type=int, default=64, help="patch side of the sweep")
    parser.add_argument(
        "--compiled-at", default="", help="batch sizes of the sweep also timed compiled"
    )
    parser.add_argument("--models", default=",".join(DEFAULTS), help="architectures timed")
    parser.add_argument(
        "--skip", default="", help="variants of the first table left out, e.g. 'float32 compiled'"
    )
    args = parser.parse_args()
    device = choose_device(args.device)
    variants = [("float32 eager", False, False)]
    if device.type == "cuda":
        variants += [
            ("bfloat16 eager", True, False),
            ("float32 compiled", False, True),
            ("bfloat16 compiled", True, True),
        ]
    variants = [v for v in variants if v[0] not in args.skip.split(",")]
    print(
        f"training throughput on {device} ({torch.get_num_threads()} threads), batch 16 x 64 x 64"
    )
    print(f"{'model':<14}{'variant':<20}{'patches/s':>12}")
    default, rates = {}, {}
    for name in args.models.split(","):
        kwargs = DEFAULTS[name]
        for label, bf16, comp in variants:
            try:
                rate = throughput(name, kwargs, device, args.steps, args.warmup, bf16, comp)
            except Exception as err:  # e.g. a compiler failure: report it, go on
                print(f"{name:<14}{label:<20}{'failed':>12}  {type(err).__name__}: {err}"[:200])
                continue
            rates[name, label] = rate
            print(f"{name:<14}{label:<20}{rate:>12.1f}")
            if (device.type == "cpu" and label == "float32 eager") or label == "bfloat16 eager":
                default[name] = rate
    swept = [v for v in variants if v[0] != "float32 compiled"]  # compiling is slow: --compiled-at
    best = sweep(args, device, swept) if args.sweep else None
    summary = " ".join(f"{n}_patches_per_s={r:.1f}" for n, r in default.items())
    if best:
        summary += f" restormer_best_batch={best[0]} restormer_best_patches_per_s={best[1]:.1f}"
        summary += f" loop_over_bare={best[2]:.2f}"
    if device.type == "cuda":
        fp32 = rates.get(("restormer", "float32 eager"))
        bf16 = rates.get(("restormer", "bfloat16 eager"))
        compiled = rates.get(("restormer", "bfloat16 compiled"))
        if fp32 and bf16:
            summary += f" restormer_bf16_over_fp32={bf16 / fp32:.2f}"
        if bf16 and compiled:
            summary += f" restormer_compiled_over_eager={compiled / bf16:.2f}"
    print(summary)


def loop_rate(device, batch, patch, steps, bf16, on_host=False, pairs=2048) -> float:
    """Patches/s of the training loop's own epoch (``_train_epoch``: shuffled indexing,
    augmentation, the step, loss bookkeeping) over ``pairs`` random pairs, after one
    warm-up epoch; the pairs where the loop keeps them, or on the host (``on_host``)."""
    from platefocus.train.data import place_pairs
    from platefocus.train.loop import TrainConfig, _setup, _train_epoch

    config = TrainConfig(
        model="restormer",
        model_kwargs=DEFAULTS["restormer"],
        loss={"ssim": 0.7, "l1": 0.1, "mse": 0.2},
        batch_size=batch,
        max_steps_per_epoch=steps,
        bf16=bf16,
    )
    pairs = max(pairs, steps * batch)  # every step a full batch
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    run = _setup(config, device, gen, pairs, 1)
    x, y = torch.rand(pairs, 1, patch, patch), torch.rand(pairs, 1, patch, patch)
    if not on_host:
        x, y = place_pairs(x, y, device)
    _train_epoch(run, x, y, 0, False)
    _sync(device)
    t0 = time.perf_counter()
    _train_epoch(run, x, y, 1, False)
    _sync(device)
    return run.steps_per_epoch * batch / (time.perf_counter() - t0)


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def sweep(args, device, variants) -> tuple[int, float, float]:
    """Restormer patches/s against batch size (``--patch`` pixels square): each variant's
    bare step, then the training loop with its pairs on the device and on the host (at
    the device's default precision). Returns (best batch, its rate, loop over bare)."""
    compiled_at = {int(b) for b in args.compiled_at.split(",") if b}
    default_bf16 = device.type == "cuda"
    columns = [label for label, _, _ in variants] + ["loop", "loop, host pairs"]
    print(f"\nRestormer, {args.patch} x {args.patch} patches: patches/s against batch size")
    print(f"{'batch':>8}" + "".join(f"{label:>20}" for label in columns))
    best, best_bare, best_loop = (0, 0.0), {}, {}
    for batch in (int(b) for b in args.sweep.split(",")):
        cells = []
        for _, bf16, comp in variants:
            if comp and batch not in compiled_at:
                cells.append(f"{'-':>20}")
                continue
            try:
                rate = throughput(
                    "restormer",
                    DEFAULTS["restormer"],
                    device,
                    args.steps,
                    args.warmup,
                    bf16,
                    comp,
                    batch=batch,
                    patch=args.patch,
                )
            except Exception as err:  # out of memory at large batches: say so, go on
                cells.append(f"{type(err).__name__:>20}")
                continue
            if bf16 == default_bf16 and not comp:
                best_bare[batch] = rate
            best = max(best, (batch, rate), key=lambda b: b[1])
            cells.append(f"{rate:>20.1f}")
        for on_host in (False, True):
            try:
                rate = loop_rate(device, batch, args.patch, args.steps, default_bf16, on_host)
            except Exception as err:
                cells.append(f"{type(err).__name__:>20}")
                continue
            if not on_host:
                best_loop[batch] = rate
            cells.append(f"{rate:>20.1f}")
        print(f"{batch:>8}" + "".join(cells))
    ratio = best_loop.get(best[0], 0.0) / best_bare[best[0]] if best[0] in best_bare else 0.0
    return best[0], best[1], ratio


if __name__ == "__main__":
    main()
