"""Training loop: device chosen automatically, bfloat16 autocast on CUDA, AdamW with a
cosine schedule and linear warm-up, augmentation, checkpoints (best and last) with resume,
early stopping. Seeded runs on CPU are deterministic, resumed or not.

The loop knows nothing of the architecture or the loss: both come from registries.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import zarr

from platefocus.logs import progress as progress_bar
from platefocus.losses import WeightedLoss
from platefocus.models import build_model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run.

    Attributes
    ----------
    model, model_kwargs : str, dict
        Registered architecture and its keyword arguments.
    loss : dict
        Loss term weights (see :class:`platefocus.losses.WeightedLoss`).
    epochs, batch_size : int
        Passes over the training split and pairs per step.
    max_steps_per_epoch : int or None
        Caps an epoch (a budget for CPU runs); the first pairs of each shuffled epoch.
    lr, weight_decay, warmup_epochs : float
        AdamW learning rate and decay; linear warm-up, then cosine decay to 0.
    patience : int
        Epochs without a better validation loss before stopping (0: never stop early).
    augment : bool
        Random flips and 90-degree rotations of each pair.
    intensity_jitter : float
        Pairs are scaled by a factor in ``1 +- intensity_jitter``.
    device : str
        ``"auto"`` (CUDA if present), ``"cpu"`` or ``"cuda"``.
    bf16 : bool
        bfloat16 autocast on CUDA (ignored on CPU).
    compile : bool
        ``torch.compile`` the model.
    seed : int
    threads : int
        CPU threads for torch.
    """

    model: str = "restormer"
    model_kwargs: dict = field(default_factory=dict)
    loss: dict = field(default_factory=lambda: {"ssim": 0.84, "l1": 0.16})
    epochs: int = 10
    batch_size: int = 16
    max_steps_per_epoch: int | None = None
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_epochs: float = 1.0
    patience: int = 5
    augment: bool = True
    intensity_jitter: float = 0.1
    device: str = "auto"
    bf16: bool = True
    compile: bool = False
    seed: int = 0
    threads: int = 2
    max_minutes: float | None = None


def choose_device(name: str = "auto") -> torch.device:
    """CUDA when asked or available (``auto``), else CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("training.device is 'cuda' but no CUDA device is available")
    return torch.device(name)


def load_split(dataset_path: str | os.PathLike, table: pd.DataFrame, split: str):
    """Input and target arrays of one split, in memory: (N, C, P, P) and (N, 1, P, P)."""
    group = zarr.open_group(str(dataset_path), mode="r")
    idx = np.nonzero((table["split"] == split).to_numpy())[0]
    if len(idx) == 0:
        return np.zeros((0, 1, 1, 1), np.float32), np.zeros((0, 1, 1, 1), np.float32), idx
    return group["input"].oindex[idx], group["target"].oindex[idx], idx


def augment_batch(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator, jitter: float):
    """The same random flip, 90-degree rotation and intensity scale for input and target."""
    k = int(torch.randint(0, 4, (1,), generator=gen))
    flip = bool(torch.randint(0, 2, (1,), generator=gen))
    dims = (-2, -1)
    x, y = torch.rot90(x, k, dims), torch.rot90(y, k, dims)
    if flip:
        x, y = torch.flip(x, (-1,)), torch.flip(y, (-1,))
    if jitter > 0:
        scale = 1 + jitter * (2 * torch.rand((x.shape[0], 1, 1, 1), generator=gen) - 1)
        x, y = x * scale, y * scale
    return x, y


def lr_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """Linear warm-up to 1, then cosine decay to 0."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def _save(obj: dict, path: Path) -> None:
    tmp = path.with_name(path.name + ".partial")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _rng_state(gen: torch.Generator) -> dict:
    # Global NumPy/Python generators are saved too: libraries (MONAI) may draw from them.
    return {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),  # noqa: NPY002
        "python": random.getstate(),
        "loader": gen.get_state(),
    }


def _set_rng_state(state: dict, gen: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    random.setstate(state["python"])
    gen.set_state(state["loader"])


def train(
    dataset_path: str | os.PathLike,
    table: pd.DataFrame,
    config: TrainConfig,
    work_dir: str | os.PathLike,
    dataset_info: dict | None = None,
    progress: bool = True,
    stop_after_epochs: int | None = None,
) -> pd.DataFrame:
    """Train (or resume training) and keep ``best.pt`` and ``last.pt`` in ``work_dir``.

    A ``last.pt`` already in ``work_dir`` from the same configuration is resumed from.
    ``stop_after_epochs`` ends this call early (as a kill would), for tests.

    Returns
    -------
    DataFrame
        Training history, one row per epoch: ``epoch, train_loss, val_loss, lr``.
    """
    import time

    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(config.threads)
    device = choose_device(config.device)
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True)
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)  # noqa: NPY002  (global state other libraries may use)
    random.seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)

    x_train, y_train, _ = load_split(dataset_path, table, "train")
    x_val, y_val, _ = load_split(dataset_path, table, "val")
    if len(x_train) == 0:
        raise ValueError("the training split is empty: more wells with kept targets needed")
    in_channels = x_train.shape[1]
    model = build_model(
        config.model, spatial_dims=2, in_channels=in_channels, **config.model_kwargs
    ).to(device)
    loss_fn = WeightedLoss(config.loss)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    steps_per_epoch = math.ceil(len(x_train) / config.batch_size)
    if config.max_steps_per_epoch:
        steps_per_epoch = min(steps_per_epoch, config.max_steps_per_epoch)
    total = steps_per_epoch * config.epochs
    warmup = max(1, round(config.warmup_epochs * steps_per_epoch))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: lr_factor(s, warmup, total))
    run_model = torch.compile(model) if config.compile else model
    use_bf16 = config.bf16 and device.type == "cuda"

    history: list[dict] = []
    start, best_val, stale, seconds = 0, math.inf, 0, 0.0
    config_dict = dataclasses.asdict(config)
    last_path, best_path = work / "last.pt", work / "best.pt"
    if last_path.exists():
        state = torch.load(last_path, map_location=device, weights_only=False)
        if state["config"] == config_dict:
            model.load_state_dict(state["model_state"])
            optimiser.load_state_dict(state["optimiser"])
            scheduler.load_state_dict(state["scheduler"])
            _set_rng_state(state["rng"], gen)
            start, best_val, stale = state["epoch"] + 1, state["best_val"], state["stale"]
            history, seconds = state["history"], state.get("train_seconds", 0.0)
            log.info("resuming %s from epoch %d", config.model, start)
        else:
            log.warning("%s was written with another configuration; starting over", last_path)

    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    for epoch in range(start, config.epochs):
        if stale >= config.patience > 0:
            break
        if config.max_minutes is not None and seconds >= 60 * config.max_minutes:
            log.info(
                "wall-time budget of %.1f min reached after %d epochs", config.max_minutes, epoch
            )
            break
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(len(xt), generator=gen)[: steps_per_epoch * config.batch_size]
        losses = []
        bar = progress_bar(
            range(steps_per_epoch),
            desc=f"{config.model} epoch {epoch + 1}",
            disable=not progress,
            leave=False,
        )
        for step in bar:
            idx = order[step * config.batch_size : (step + 1) * config.batch_size]
            x, y = xt[idx], yt[idx]
            if config.augment:
                x, y = augment_batch(x, y, gen, config.intensity_jitter)
            x, y = x.to(device), y.to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                pred = run_model(x)
            loss = loss_fn(pred.float(), y)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            scheduler.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)
        val = evaluate_loss(run_model, loss_fn, x_val, y_val, config.batch_size, device, use_bf16)
        # Without a validation split the training loss picks the best epoch.
        score = val if math.isfinite(val) else float(np.mean(losses))
        improved = score < best_val
        best_val, stale = (score, 0) if improved else (best_val, stale + 1)
        seconds += time.perf_counter() - t0
        # Wall time goes to the log only, so seeded reruns give identical histories.
        history.append(
            dict(
                epoch=epoch + 1,
                train_loss=float(np.mean(losses)),
                val_loss=val,
                lr=float(scheduler.get_last_lr()[0]),
            )
        )
        log.info(
            "epoch %d: train %.4f val %.4f%s (%.1f s)",
            epoch + 1,
            history[-1]["train_loss"],
            val,
            " (best)" if improved else "",
            time.perf_counter() - t0,
        )
        checkpoint = {
            "model": config.model,
            "model_kwargs": config.model_kwargs,
            "in_channels": in_channels,
            "model_state": model.state_dict(),
            "dataset": dataset_info or {},
            "config": config_dict,
            "epoch": epoch,
            "best_val": best_val,
            "stale": stale,
            "history": history,
            "train_seconds": seconds,
            "device": device.type,
        }
        if improved:
            _save(checkpoint, best_path)
        _save(
            {
                **checkpoint,
                "optimiser": optimiser.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng": _rng_state(gen),
            },
            last_path,
        )
        if stop_after_epochs is not None and epoch + 1 - start >= stop_after_epochs:
            break
    return pd.DataFrame(history)


@torch.no_grad()
def evaluate_loss(model, loss_fn, x, y, batch_size, device, use_bf16) -> float:
    """Mean loss over pairs (validation); NaN when there are none."""
    if len(x) == 0:
        return float("nan")
    model.eval()
    total = 0.0
    for i in range(0, len(x), batch_size):
        xb = torch.from_numpy(x[i : i + batch_size]).to(device)
        yb = torch.from_numpy(y[i : i + batch_size]).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            pred = model(xb)
        total += float(loss_fn(pred.float(), yb)) * len(xb)
    return total / len(x)


def read_checkpoint(path: str | os.PathLike, device: str = "cpu") -> dict:
    """A checkpoint's contents, with a clear error for anything that is not one."""
    from platefocus.errors import InputError

    try:
        state = torch.load(path, map_location=device, weights_only=False)
    except Exception as err:  # missing, truncated or not a torch file
        raise InputError(path, f"cannot read checkpoint ({type(err).__name__}: {err})") from None
    if not isinstance(state, dict) or "model_state" not in state:
        raise InputError(path, "not a platefocus checkpoint (no model_state)")
    return state


def load_checkpoint(path: str | os.PathLike, device: str = "cpu") -> tuple[torch.nn.Module, dict]:
    """Rebuild the network of a checkpoint; returns ``(model in eval mode, checkpoint)``."""
    state = read_checkpoint(path, device)
    model = build_model(
        state["model"], spatial_dims=2, in_channels=state["in_channels"], **state["model_kwargs"]
    )
    model.load_state_dict(state["model_state"])
    return model.to(device).eval(), state
