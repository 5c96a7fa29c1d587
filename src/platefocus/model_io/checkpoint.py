"""Model files: written by training, read by evaluation, restoration and comparison.

The one loader of platefocus's model files. A checkpoint is a ``torch.save`` dict
(:func:`platefocus.model_io.metadata.checkpoint_state` is its layout); a bioimage.io package
exported by platefocus holds the same metadata (:mod:`platefocus.model_io.package`). Either
reads as ``(network, ModelInfo)``; the file is read once per process (cached by path, size
and modification time, so a rewritten file is read again).
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

import torch

from platefocus.errors import InputError
from platefocus.io.atomic import file_sha256
from platefocus.model_io.metadata import ModelInfo, ResumeState
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


def _file_key(path: str | os.PathLike) -> tuple[str, int, int]:
    try:
        info = os.stat(path)
    except OSError:
        raise InputError(path, "no such model file") from None
    return str(Path(path).resolve()), info.st_size, info.st_mtime_ns


@functools.lru_cache(maxsize=8)
def _read_state(key: tuple[str, int, int]) -> tuple[dict, ModelInfo]:
    """A model file's weights (on the CPU) and metadata, once per process and version."""
    from platefocus.model_io.package import is_package, read_package

    path = key[0]
    if is_package(path):
        state, sha256 = read_package(path, "cpu"), file_sha256(path)
    else:
        try:
            state = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as err:  # missing, truncated or not a torch file
            raise InputError(
                path, f"cannot read checkpoint ({type(err).__name__}: {err})"
            ) from None
        if not isinstance(state, dict) or "model_state" not in state or "model" not in state:
            raise InputError(path, "not a platefocus checkpoint (no model_state)")
        sha256 = file_sha256(path)
    return state["model_state"], ModelInfo.from_state(state, path, sha256)


def read_model_info(path: str | os.PathLike) -> ModelInfo:
    """What a checkpoint or package says about its network (read once per process)."""
    return _read_state(_file_key(path))[1]


@functools.lru_cache(maxsize=8)
def _cached_model(key: tuple[str, int, int], device: str) -> torch.nn.Module:
    weights, info = _read_state(key)
    path = key[0]
    try:
        model = build_model(**info.architecture_arguments())
        fit = model.load_state_dict(weights, strict=False)
    except (KeyError, TypeError, RuntimeError, ValueError) as err:
        # torch's first line names its own class ("... state_dict for UNet"), which reads
        # as a second architecture: the reason is on the lines after it
        lines = [line.strip() for line in str(err).strip().splitlines()]
        reason = next((ln for ln in lines if not ln.startswith("Error(s) in")), lines[0])
        raise InputError(
            path, f"weights do not fit the architecture {info.architecture!r} ({reason[:200]})"
        ) from None
    if fit.missing_keys or fit.unexpected_keys:
        missing, foreign = fit.missing_keys, fit.unexpected_keys
        example = (missing or foreign)[0]
        raise InputError(
            path,
            f"weights do not fit the architecture {info.architecture!r}: {len(missing)} of"
            f" its parameters missing, {len(foreign)} not its own (e.g. {example!r});"
            " the checkpoint is mislabelled or damaged",
        )
    return model.to(device).eval()


def load_model(path: str | os.PathLike, device: str = "cpu") -> tuple[torch.nn.Module, ModelInfo]:
    """The network of a checkpoint or package in eval mode on ``device``, and its metadata.

    Cached per process and device: callers share one module, so they must not train it or
    change it in place (wrap it, as restoration's compile and CUDA graphs do)."""
    key = _file_key(path)
    return _cached_model(key, str(device)), _read_state(key)[1]


def read_resume_state(path: str | os.PathLike, device: str) -> ResumeState | None:
    """The training state ``last.pt`` holds, or None when there is none."""
    if not Path(path).exists():
        return None
    state = torch.load(path, map_location=device, weights_only=False)
    return ResumeState.from_state(state)
