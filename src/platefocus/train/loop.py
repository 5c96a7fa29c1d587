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
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from platefocus.errors import InputError
from platefocus.io.pairs import read_split
from platefocus.logs import progress as progress_bar
from platefocus.model_io.checkpoint import choose_device, read_resume_state, save_checkpoint
from platefocus.model_io.metadata import checkpoint_state, resume_state
from platefocus.models import build_model
from platefocus.train.data import augment_batch, place_pairs, rng_state, set_rng_state
from platefocus.train.device_defaults import for_device
from platefocus.train.losses import WeightedLoss
from platefocus.train.optim import lr_factor, parameter_groups

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run.

    Attributes
    ----------
    model, model_kwargs : str, dict
        Registered architecture and its keyword arguments.
    loss : dict
        Loss term weights (see :class:`platefocus.train.losses.WeightedLoss`).
    epochs : int
        Passes over the training split.
    batch_size : int or "auto"
        Pairs per step; ``"auto"``: the device's default
        (:mod:`platefocus.train.device_defaults`: 16 on a CPU, more on a GPU).
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
    compile : bool or "auto"
        ``torch.compile`` the model; ``"auto"``: the device's default, off on both for
        now (a compiled step is faster on a GPU, its one-off compilation is not repaid by
        short runs: :mod:`platefocus.train.device_defaults`).
    grad_clip : float or None
        Largest L2 norm of all gradients together per step (``clip_grad_norm_``); None:
        no clipping.
    operator : str or None
        The training plate's defocus-operator file (``models/operator.npz``), for
        networks that restore with it (DDNM); others ignore it.
    seed : int
    threads : int
        CPU threads for torch.
    """

    model: str = "restormer"
    model_kwargs: dict = field(default_factory=dict)
    loss: dict = field(default_factory=lambda: {"ssim": 0.7, "l1": 0.1, "mse": 0.2})
    epochs: int = 20
    batch_size: int | str = "auto"
    max_steps_per_epoch: int | None = 25
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_epochs: float = 1.0
    patience: int = 5
    augment: bool = True
    intensity_jitter: float = 0.1
    device: str = "auto"
    bf16: bool = True
    compile: bool | str = "auto"
    seed: int = 0
    threads: int = 2
    max_minutes: float | None = None
    grad_clip: float | None = None
    operator: str | None = None

    @classmethod
    def from_config(cls, training: dict, model: str, threads: int = 1) -> TrainConfig:
        """The settings of the ``training.models`` entry ``model`` from the workflow's
        ``training`` section: its architecture and arguments, and its own ``loss`` if it
        has one (:func:`platefocus.models.catalog.model_entry`)."""
        from platefocus.models.catalog import model_entry, training_overrides

        if model not in training["models"]:
            raise InputError(f"training.models.{model}", "no settings for this model")
        architecture, model_kwargs, loss = model_entry(model, training["models"][model])
        fields = {f.name for f in dataclasses.fields(cls)} - {"model", "model_kwargs", "threads"}
        settings = {k: (dict(v) if k == "loss" else v) for k, v in training.items() if k in fields}
        if loss is not None:  # the entry's own loss
            settings["loss"] = loss
        settings.update(training_overrides(training["models"][model]))
        return cls(model=architecture, model_kwargs=model_kwargs, threads=threads, **settings)


@dataclass
class _Run:
    """The live state of one training run: what it trains with and how far it got."""

    config: TrainConfig
    device: torch.device
    gen: torch.Generator
    in_channels: int
    model: torch.nn.Module
    run_model: torch.nn.Module
    loss_fn: WeightedLoss
    optimiser: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    steps_per_epoch: int
    history: list[dict] = field(default_factory=list)
    start: int = 0
    best_val: float = math.inf
    stale: int = 0
    seconds: float = 0.0

    @property
    def use_bf16(self) -> bool:
        return self.config.bf16 and self.device.type == "cuda"


def _seed(config: TrainConfig) -> tuple[torch.device, torch.Generator]:
    """Threads, determinism and every random generator, from the config."""
    torch.set_num_threads(config.threads)
    device = choose_device(config.device)
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True)
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)  # noqa: NPY002  (global state other libraries may use)
    random.seed(config.seed)
    return device, torch.Generator().manual_seed(config.seed)


def _setup(
    config: TrainConfig, device: torch.device, gen: torch.Generator, n_train: int, in_channels: int
) -> _Run:
    """Model, loss, optimiser and schedule of a fresh run."""
    model = build_model(
        config.model, spatial_dims=2, in_channels=in_channels, **config.model_kwargs
    )
    if hasattr(model, "load_operator"):  # DDNM: the defocus operator lives in its weights
        if config.operator is None:
            raise InputError(f"training.models ({config.model})", "needs a defocus operator")
        model.load_operator(config.operator)
    model = model.to(device)
    loss_fn = WeightedLoss(config.loss).to(device)
    optimiser = torch.optim.AdamW(
        parameter_groups(model, config.lr), lr=config.lr, weight_decay=config.weight_decay
    )
    steps_per_epoch = math.ceil(n_train / config.batch_size)
    if config.max_steps_per_epoch:
        steps_per_epoch = min(steps_per_epoch, config.max_steps_per_epoch)
    total = steps_per_epoch * config.epochs
    warmup = max(1, round(config.warmup_epochs * steps_per_epoch))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: lr_factor(s, warmup, total))
    return _Run(
        config=config,
        device=device,
        gen=gen,
        in_channels=in_channels,
        model=model,
        run_model=torch.compile(model) if config.compile else model,
        loss_fn=loss_fn,
        optimiser=optimiser,
        scheduler=scheduler,
        steps_per_epoch=steps_per_epoch,
    )


def dataset_digest(table: pd.DataFrame, dataset_info: dict) -> str:
    """A digest of what a run trains on: every pair's row (split, planes, normalisation)
    and how the pairs were made. A resume needs the same digest."""
    import hashlib
    import json

    h = hashlib.sha256(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    h.update(json.dumps(dataset_info, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def _resume(run: _Run, last_path: Path, digest: str) -> None:
    """Continue from ``last_path`` when it was written with the same configuration and
    dataset (pairs, split, normalisation); otherwise start over and say why."""
    state = read_resume_state(last_path, run.device)
    if state is None:
        return
    if state.training != dataclasses.asdict(run.config):
        log.warning("%s was written with another configuration; starting over", last_path)
        return
    if state.dataset_digest != digest:
        log.warning(
            "%s was trained on another dataset (pairs, split or normalisation); starting over",
            last_path,
        )
        return
    run.model.load_state_dict(state.model_state)
    run.optimiser.load_state_dict(state.optimiser)
    run.scheduler.load_state_dict(state.scheduler)
    set_rng_state(state.rng, run.gen)
    run.start, run.best_val, run.stale = state.epoch + 1, state.best_val, state.stale
    run.history, run.seconds = state.history, state.train_seconds
    log.info("resuming %s from epoch %d", run.config.model, run.start)


def _out_of_budget(run: _Run, epoch: int) -> bool:
    """Early stopping (patience) or the wall-time budget ends training before ``epoch``."""
    config = run.config
    if run.stale >= config.patience > 0:
        return True
    if config.max_minutes is not None and run.seconds >= 60 * config.max_minutes:
        log.info("wall-time budget of %.1f min reached after %d epochs", config.max_minutes, epoch)
        return True
    return False


def _train_epoch(
    run: _Run, xt: torch.Tensor, yt: torch.Tensor, epoch: int, progress: bool
) -> list[float]:
    """One pass over (a budget of) the shuffled training pairs; the loss of every step."""
    config = run.config
    run.model.train()
    order = torch.randperm(len(xt), generator=run.gen)[: run.steps_per_epoch * config.batch_size]
    losses = []
    bar = progress_bar(
        range(run.steps_per_epoch),
        desc=f"{config.model} epoch {epoch + 1}",
        disable=not progress,
        leave=False,
    )
    for step in bar:
        idx = order[step * config.batch_size : (step + 1) * config.batch_size]
        x, y = xt[idx], yt[idx]
        if config.augment:
            x, y = augment_batch(x, y, run.gen, config.intensity_jitter)
        x, y = x.to(run.device), y.to(run.device)
        with torch.autocast(run.device.type, dtype=torch.bfloat16, enabled=run.use_bf16):
            loss = _pair_loss(run.run_model, run.model, run.loss_fn, x, y)
        run.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(run.model.parameters(), config.grad_clip)
        run.optimiser.step()
        run.scheduler.step()
        losses.append(loss.detach())  # read once per epoch: no wait for the device per step
        if progress and step % 10 == 0:
            bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
    return torch.stack(losses).float().cpu().tolist()


def _record_epoch(run: _Run, epoch: int, losses: list[float], val: float, seconds: float) -> bool:
    """Update best/stale and the history after an epoch; whether it was the best so far."""
    # Without a validation split the training loss picks the best epoch.
    score = val if math.isfinite(val) else float(np.mean(losses))
    improved = score < run.best_val
    run.best_val, run.stale = (score, 0) if improved else (run.best_val, run.stale + 1)
    run.seconds += seconds
    # Wall time goes to the log only, so seeded reruns give identical histories.
    run.history.append(
        dict(
            epoch=epoch + 1,
            train_loss=float(np.mean(losses)),
            val_loss=val,
            lr=float(run.scheduler.get_last_lr()[0]),
        )
    )
    return improved


def _save_epoch(
    run: _Run, epoch: int, improved: bool, work: Path, dataset_info: dict, digest: str
) -> None:
    """Write ``best.pt`` (when improved) and ``last.pt`` (with optimiser and RNG state)."""
    checkpoint = checkpoint_state(
        architecture=run.config.model,
        architecture_kwargs=run.config.model_kwargs,
        in_channels=run.in_channels,
        model_state=run.model.state_dict(),
        dataset=dataset_info,
        training=dataclasses.asdict(run.config),
        epoch=epoch,
        best_val=run.best_val,
        stale=run.stale,
        history=run.history,
        device=run.device.type,
    )
    if improved:
        # No wall time here: seeded reruns give byte-identical checkpoints (and outputs
        # that name them by digest). The time goes to last.pt, which resumes, and timing.json.
        save_checkpoint(checkpoint, work / "best.pt")
    save_checkpoint(
        resume_state(
            checkpoint,
            train_seconds=run.seconds,
            dataset_digest=digest,
            optimiser=run.optimiser.state_dict(),
            scheduler=run.scheduler.state_dict(),
            rng=rng_state(run.gen),
        ),
        work / "last.pt",
    )


def read_pooled_split(
    dataset_paths: list[str | os.PathLike], tables: list[pd.DataFrame], split: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of one split of several pair stores (one per training plate), in the
    order given."""
    parts = [
        read_split(path, table, split)[:2]
        for path, table in zip(dataset_paths, tables, strict=True)
    ]
    parts = [p for p in parts if len(p[0])] or parts[:1]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def train(
    dataset_path: str | os.PathLike | list[str | os.PathLike],
    table: pd.DataFrame | list[pd.DataFrame],
    config: TrainConfig,
    work_dir: str | os.PathLike,
    dataset_info: dict | None = None,
    progress: bool = True,
    stop_after_epochs: int | None = None,
) -> pd.DataFrame:
    """Train (or resume training) and keep ``best.pt`` and ``last.pt`` in ``work_dir``.

    ``dataset_path`` and ``table`` may be lists (one pair store and table per plate): the
    model is trained on the pairs of all of them (several training plates, one model).

    A ``last.pt`` already in ``work_dir`` from the same configuration is resumed from.
    ``stop_after_epochs`` ends this call early (as a kill would), for tests.

    Returns
    -------
    DataFrame
        Training history, one row per epoch: ``epoch, train_loss, val_loss, lr``.
    """
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    device, gen = _seed(config)
    config = for_device(config, device)
    if isinstance(table, pd.DataFrame):
        paths, tables = [dataset_path], [table]
    else:
        paths, tables = list(dataset_path), list(table)
        table = pd.concat(tables, ignore_index=True)  # what the digest covers
    x_train, y_train = read_pooled_split(paths, tables, "train")
    x_val, y_val = read_pooled_split(paths, tables, "val")
    if len(x_train) == 0:
        raise ValueError("the training split is empty: more wells with kept targets needed")
    run = _setup(config, device, gen, len(x_train), x_train.shape[1])
    # a feature loss trained on the plate's own in-focus targets (seeded: same on resume)
    run.loss_fn.fit(torch.from_numpy(y_train))
    digest = dataset_digest(table, dataset_info or {})
    _resume(run, work / "last.pt", digest)
    xt, yt = place_pairs(torch.from_numpy(x_train), torch.from_numpy(y_train), device)
    for epoch in range(run.start, config.epochs):
        if _out_of_budget(run, epoch):
            break
        t0 = time.perf_counter()
        losses = _train_epoch(run, xt, yt, epoch, progress)
        val = evaluate_loss(
            run.run_model, run.loss_fn, x_val, y_val, config.batch_size, device, run.use_bf16
        )
        improved = _record_epoch(run, epoch, losses, val, time.perf_counter() - t0)
        log.info(
            "epoch %d: train %.4f val %.4f%s (%.1f s)",
            epoch + 1,
            run.history[-1]["train_loss"],
            val,
            " (best)" if improved else "",
            time.perf_counter() - t0,
        )
        _save_epoch(run, epoch, improved, work, dataset_info or {}, digest)
        if stop_after_epochs is not None and epoch + 1 - run.start >= stop_after_epochs:
            break
    return pd.DataFrame(run.history)


@torch.no_grad()
def evaluate_loss(model, loss_fn, x, y, batch_size, device, use_bf16) -> float:
    """Mean loss over pairs (validation); NaN when there are none."""
    if len(x) == 0:
        return float("nan")
    model.eval()
    total = 0.0
    generator = torch.Generator(device=device).manual_seed(0)
    for i in range(0, len(x), batch_size):
        xb = torch.from_numpy(x[i : i + batch_size]).to(device)
        yb = torch.from_numpy(y[i : i + batch_size]).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            loss = _pair_loss(model, model, loss_fn, xb, yb, generator)
        total += float(loss) * len(xb)
    return total / len(x)


def _pair_loss(run_model, model, loss_fn, x, y, generator=None) -> torch.Tensor:
    """The loss of a batch: ``loss_fn(model(x), y)``, or the network's own
    ``training_loss(x, y)`` when it has one (a diffusion prior's denoising loss; its
    validation draws from ``generator``, the same noise every epoch)."""
    own = getattr(model, "training_loss", None)
    if own is not None:
        return own(x, y, generator) if generator is not None else own(x, y)
    return loss_fn(run_model(x).float(), y)
