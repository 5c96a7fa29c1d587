"""Checkpoints: written by training, read by evaluation, restoration and comparison.

Restoration imports this module, never the training loop. A checkpoint is a ``torch.save``
dict with the architecture (``model``, ``model_kwargs``, ``in_channels``), its weights
(``model_state``), how the pairs were made (``dataset``: percentiles, context planes, ...)
and the training settings (``config``); a bioimage.io package exported by platefocus holds
the same (:mod:`platefocus.train.package`).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from platefocus.dataset.normalise import DEFAULT_PERCENTILES
from platefocus.errors import InputError
from platefocus.models import build_model


def choose_device(name: str = "auto", key: str = "training.device") -> torch.device:
    """CUDA when asked or available (``auto``), else CPU; ``key`` is the setting named
    when CUDA is asked for and there is none."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError(key, "is 'cuda' but no CUDA device is available (use auto or cpu)")
    return torch.device(name)


def save_checkpoint(state: dict, path: str | os.PathLike) -> None:
    """Write ``state`` to ``path`` atomically (a temporary sibling, then a rename)."""
    import shutil

    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    try:
        torch.save(state, tmp)
    except (OSError, RuntimeError) as err:
        # torch reports a full disk as "unexpected pos ..." (a short write): say what it is
        tmp.unlink(missing_ok=True)
        free = shutil.disk_usage(path.parent).free
        if isinstance(err, OSError) or free < 64 * 2**20:
            raise InputError(
                path, f"could not be written: {free / 2**20:.0f} MiB free on its disk ({err})"
            ) from None
        raise
    os.replace(tmp, path)


def read_checkpoint(path: str | os.PathLike, device: str = "cpu") -> dict:
    """A checkpoint's contents, with a clear error for anything that is not one.

    ``path`` may also be a bioimage.io model package exported by platefocus (a ``.zip``):
    its description is checked and the same dictionary is returned
    (:func:`platefocus.train.package.read_package`)."""
    from platefocus.train.package import is_package, read_package

    if is_package(path):
        return read_package(path, device)
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
    try:
        model = build_model(
            state["model"],
            spatial_dims=2,
            in_channels=state["in_channels"],
            **state["model_kwargs"],
        )
        fit = model.load_state_dict(state["model_state"], strict=False)
    except (KeyError, TypeError, RuntimeError, ValueError) as err:
        # torch's first line names its own class ("... state_dict for UNet"), which reads
        # as a second architecture: the reason is on the lines after it
        lines = [line.strip() for line in str(err).strip().splitlines()]
        reason = next((ln for ln in lines if not ln.startswith("Error(s) in")), lines[0])
        raise InputError(
            path, f"weights do not fit the architecture {state.get('model')!r} ({reason[:200]})"
        ) from None
    if fit.missing_keys or fit.unexpected_keys:
        missing, foreign = fit.missing_keys, fit.unexpected_keys
        example = (missing or foreign)[0]
        raise InputError(
            path,
            f"weights do not fit the architecture {state['model']!r}: {len(missing)} of its"
            f" parameters missing, {len(foreign)} not its own (e.g. {example!r});"
            " the checkpoint is mislabelled or damaged",
        )
    return model.to(device).eval(), state


def checkpoint_percentiles(path: str | os.PathLike) -> tuple[float, float]:
    """The normalisation percentiles the checkpoint's model was trained with."""
    state = read_checkpoint(path)
    return tuple(state.get("dataset", {}).get("percentiles", DEFAULT_PERCENTILES))
