"""Nuclei segmented by a Cellpose 3 model (``segmentation.method: cellpose``).

An optional extra (``pip install 'platefocus[cellpose]'``, pinned to ``cellpose<4``: 4.x
brings torchvision and segment-anything). Weights come from a file or the user's Cellpose
model folder, never from the network: Cellpose itself downloads a built-in model when a
name it knows is not on disk, so a model is resolved here first and given to Cellpose as
a path. The planes of a field go through the model in one call (one batch of tiles),
on the GPU when there is one; the diameter range and border removal of
:class:`~platefocus.segment.nuclei.SegmentationConfig` apply to its objects as to the
classic path's, so that the two are compared on the same terms.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from platefocus.errors import InputError

KEY = "segmentation.cellpose.model"
#: Cellpose's file names of its built-in models, by the name users give them.
BUILTIN_FILES = {"nuclei": "nucleitorch_0", "cyto": "cytotorch_0", "cyto2": "cyto2torch_0"}
#: One model call at a time per process. Stages run fields on threads (targets, the
#: segmentation comparison), and Cellpose is not safe there: on a CPU it converts its
#: network to MKL-DNN modules on every call, which compiles them with torch.jit, and
#: torch.jit compiling the same class from two threads at once fails ("Can't redefine
#: method: __getstate__ on class ... MkldnnBatchNorm"); the model object is also shared
#: through :func:`load_model`'s cache. Little is lost: the network uses every core through
#: torch's own threads, and a GPU runs one batch at a time anyway.
_EVAL_LOCK = threading.Lock()


def model_folder() -> Path:
    """The user's Cellpose model folder: ``CELLPOSE_LOCAL_MODELS_PATH``, else
    ``~/.cellpose/models`` (as Cellpose itself looks)."""
    folder = os.environ.get("CELLPOSE_LOCAL_MODELS_PATH")
    return Path(folder) if folder else Path.home() / ".cellpose" / "models"


def resolve_model(model: str | os.PathLike | None) -> Path:
    """The model file of ``model`` (a path, or a name in :func:`model_folder`).

    Raises
    ------
    InputError
        Naming the setting and how to get weights, when there is no such file.
    """
    if not model:
        raise InputError(KEY, "method cellpose needs a model: a file, a name, or plate")
    path = Path(model)
    if path.is_file():
        return path
    folder = model_folder()
    for name in (str(model), BUILTIN_FILES.get(str(model), "")):
        if name and (folder / name).is_file():
            return folder / name
    raise InputError(
        KEY,
        f"{model}: no such model file, and none of that name in {folder}; nothing is "
        "downloaded: copy the weights there (e.g. cellpose's nuclei model from a machine "
        "with network), point this setting at a file, or set it to plate to train one "
        "on a synthetic plate's true masks (rule train_segmenter)",
    )


@functools.lru_cache(maxsize=2)
def load_model(path: str, device: str = "auto"):
    """A Cellpose model of the weights file ``path`` (cached per process), on the GPU
    when ``device`` is ``auto`` and there is one, or on ``device``."""
    import torch
    from cellpose import models

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return models.CellposeModel(
        pretrained_model=str(path), model_type=None, device=torch.device(device)
    )


def cellpose_labels(
    planes: Sequence[np.ndarray], diameter_px: tuple[int, int], model_path: str | os.PathLike,
    batch_size: int = 8, remove_border: bool = True,
) -> list[np.ndarray]:  # fmt: skip
    """Label images (``int32``, ``(y, x)``) of ``planes`` by one call of the model.

    ``diameter_px``: the field's range; its geometric middle is the diameter the model
    rescales to, and objects outside it are removed, as are objects touching the border
    when ``remove_border``."""
    from skimage.segmentation import clear_border

    low, high = diameter_px
    model = load_model(str(model_path))
    with _EVAL_LOCK:
        masks, _, _ = model.eval(
            [np.asarray(p, dtype=np.float32) for p in planes],
            channels=[0, 0],
            diameter=float(np.sqrt(low * high)),
            batch_size=batch_size,
            progress=False,
        )
    out = []
    for labels in masks:
        labels = np.asarray(labels, dtype=np.int32)
        if remove_border:
            labels = clear_border(labels)
        out.append(_within_range(labels, low, high))
    return out


def _within_range(labels: np.ndarray, low: float, high: float) -> np.ndarray:
    """``labels`` without objects whose equivalent diameter is outside ``[low, high]``,
    relabelled 1..n in order."""
    areas = np.bincount(labels.ravel())
    diameters = 2 * np.sqrt(areas / np.pi)
    keep = (diameters >= low) & (diameters <= high)
    keep[0] = False
    new = np.zeros(len(areas), dtype=np.int32)
    new[keep] = np.arange(1, int(keep.sum()) + 1)
    return new[labels]
