"""What a model file says about its network: :class:`ModelInfo`, typed and frozen.

A checkpoint (``torch.save`` dict) and a bioimage.io package (its ``config.platefocus``)
carry the same metadata; this module is the only one that knows its keys. No torch here,
so reading what a model was trained on costs no import of the numerics.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from platefocus.dataset.normalise import DEFAULT_PERCENTILES


def _frozen(value: Any) -> Any:
    """A read-only view of nested metadata (dicts become mapping proxies, lists tuples)."""
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def plain(value: Any) -> Any:
    """A plain, writable copy of frozen metadata (mapping proxies to dicts, tuples to
    lists, NumPy scalars to Python numbers), as JSON and YAML want it."""
    if isinstance(value, MappingProxyType | dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class ModelInfo:
    """Everything platefocus knows about a trained network, except its weights.

    ``architecture``/``architecture_kwargs``: what :func:`platefocus.models.build_model`
    builds; ``in_channels``: planes the network takes (``1 + 2 * context_planes``);
    ``dataset``: how its training pairs were made (percentiles, context planes, offsets in
    planes, plates); ``training``: the training settings; ``sha256``: digest of the file it
    was read from; ``exported_from_sha256``: for a package, the checkpoint it came from.
    """

    architecture: str
    architecture_kwargs: MappingProxyType
    in_channels: int
    dataset: MappingProxyType
    training: MappingProxyType
    epoch: int | None
    sha256: str
    path: str
    exported_from_sha256: str | None = None

    @classmethod
    def from_state(cls, state: dict, path: str, sha256: str) -> ModelInfo:
        """From a checkpoint dict or a package's ``config.platefocus`` (both written by
        platefocus)."""
        return cls(
            architecture=state["model"],
            architecture_kwargs=_frozen(dict(state.get("model_kwargs") or {})),
            in_channels=int(state.get("in_channels", 1)),
            dataset=_frozen(dict(state.get("dataset") or {})),
            training=_frozen(dict(state.get("config") or {})),
            epoch=state.get("epoch"),
            sha256=sha256,
            path=str(path),
            exported_from_sha256=state.get("checkpoint_sha256"),
        )

    @property
    def percentiles(self) -> tuple[float, float]:
        """The (low, high) intensity percentiles of each plane mapped to 0 and 1."""
        return tuple(self.dataset.get("percentiles", DEFAULT_PERCENTILES))

    @property
    def context_planes(self) -> int:
        """Neighbouring planes on each side the network takes as extra channels."""
        return int(self.dataset.get("context_planes", 0))

    @property
    def offsets(self) -> tuple[int, ...] | None:
        """The offsets from focus (planes) it was trained on, when recorded."""
        offsets = self.dataset.get("offsets")
        return None if offsets is None else tuple(offsets)

    @property
    def trained_on(self) -> tuple[str, ...] | None:
        """The plates its training pairs came from."""
        plates = self.dataset.get("plates")
        return None if plates is None else tuple(plates)

    @property
    def operator(self) -> str | None:
        """The defocus-operator file it was trained with (networks that hold one)."""
        return self.training.get("operator")

    @property
    def loss(self) -> dict:
        """The loss terms it was trained with (``training.loss``)."""
        return plain(self.training.get("loss") or {})

    def architecture_arguments(self) -> dict:
        """Keyword arguments of :func:`platefocus.models.build_model` for this network."""
        return {
            "name": self.architecture,
            "spatial_dims": 2,
            "in_channels": self.in_channels,
            **plain(self.architecture_kwargs),
        }

    def provenance(self) -> dict:
        """What a restored plate records of the model (plain types)."""
        return {
            "model": self.architecture,
            "model_kwargs": plain(self.architecture_kwargs),
            "checkpoint_sha256": self.sha256,
            "provenance": {
                "trained_on": plain(self.dataset.get("plates")),
                # restored with a bioimage.io package: the checkpoint it was exported from
                "exported_from_sha256": self.exported_from_sha256,
                "dataset": plain(self.dataset),
                "training": plain(self.training),
                "epoch": self.epoch,
            },
        }

    def package_config(self) -> dict:
        """The metadata a bioimage.io package carries in ``config.platefocus`` (everything
        but weights and history, the checkpoint named by digest)."""
        return {
            "model": self.architecture,
            "model_kwargs": plain(self.architecture_kwargs),
            "in_channels": self.in_channels,
            "dataset": plain(self.dataset),
            "config": plain(self.training),
            "epoch": self.epoch,
            "checkpoint_sha256": self.sha256,
        }


def checkpoint_state(
    *,
    architecture: str,
    architecture_kwargs: dict,
    in_channels: int,
    model_state: dict,
    dataset: dict,
    training: dict,
    epoch: int,
    best_val: float,
    stale: int,
    history: list,
    device: str,
) -> dict:
    """The dict ``torch.save`` writes for a trained network (the layout
    :meth:`ModelInfo.from_state` reads). Values are stored as given (no copies to other
    types), so that a seeded rerun writes the same bytes and a resume compares equal."""
    return {
        "model": architecture,
        "model_kwargs": architecture_kwargs,
        "in_channels": in_channels,
        "model_state": model_state,
        "dataset": dataset,
        "config": training,
        "epoch": epoch,
        "best_val": best_val,
        "stale": stale,
        "history": history,
        "device": device,
    }


@dataclass(frozen=True)
class ResumeState:
    """What ``last.pt`` adds to a checkpoint so that training continues where it stopped."""

    training: dict
    dataset_digest: str | None
    model_state: dict
    optimiser: dict
    scheduler: dict
    rng: dict
    epoch: int
    best_val: float
    stale: int
    history: list
    train_seconds: float
    device: str

    @classmethod
    def from_state(cls, state: dict) -> ResumeState:
        return cls(
            training=state["config"],
            dataset_digest=state.get("dataset_digest"),
            model_state=state["model_state"],
            optimiser=state["optimiser"],
            scheduler=state["scheduler"],
            rng=state["rng"],
            epoch=state["epoch"],
            best_val=state["best_val"],
            stale=state["stale"],
            history=state["history"],
            train_seconds=state.get("train_seconds", 0.0),
            device=state.get("device", "cpu"),
        )


def resume_state(
    checkpoint: dict,
    *,
    train_seconds: float,
    dataset_digest: str,
    optimiser: dict,
    scheduler: dict,
    rng: dict,
) -> dict:
    """``checkpoint`` (a :func:`checkpoint_state` dict) with what resuming needs."""
    return {
        **checkpoint,
        "train_seconds": train_seconds,
        "dataset_digest": dataset_digest,
        "optimiser": optimiser,
        "scheduler": scheduler,
        "rng": rng,
    }
