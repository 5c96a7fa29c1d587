"""Training: the loop, checkpoints (written here, read by restore), losses, evaluation."""

from platefocus.train.checkpoint import (
    checkpoint_percentiles,
    choose_device,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from platefocus.train.evaluate import evaluate_split, summarise_by_dz
from platefocus.train.loop import TrainConfig, lr_factor, train
from platefocus.train.losses import LOSSES, WeightedLoss

__all__ = [
    "LOSSES",
    "TrainConfig",
    "WeightedLoss",
    "checkpoint_percentiles",
    "choose_device",
    "evaluate_split",
    "load_checkpoint",
    "lr_factor",
    "read_checkpoint",
    "save_checkpoint",
    "summarise_by_dz",
    "train",
]
