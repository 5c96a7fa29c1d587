"""A Cellpose 3 model trained from scratch on a synthetic plate's true masks (rule
``train_segmenter``): the in-focus planes and label images the generator writes into
``truth/``, of the wells the restoration networks train on (the held-out wells stay held
out for both). Nothing is downloaded: the network starts from random weights.

Seeded: NumPy's and torch's generators (Cellpose samples crops with ``np.random``), so a
rerun on a CPU gives the same weights.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: Crop side of training samples, pixels (Cellpose's own default is 224); smaller
#: planes are used whole.
CROP_PX = 224


def truth_files(truth_root: str | os.PathLike, plate: str, well: str, site: int, channel: int):
    """``(in-focus plane, labels)`` files of a synthetic field (``platefocus.synth``)."""
    root = Path(truth_root)
    stem = f"{plate}_{well.lower()}_s{site}"
    return root / f"{stem}_w{channel}_infocus.tif", root / f"{stem}_labels.tif"


def train_cellpose(
    images: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    out_model: str | os.PathLike,
    *,
    epochs: int = 100,
    learning_rate: float = 0.05,
    batch_size: int = 8,
    seed: int = 0,
    crop_px: int = CROP_PX,
    provenance: dict | None = None,
) -> dict:
    """Train a Cellpose network from scratch on ``images`` (``(y, x)`` planes) and their
    instance ``labels``; write its weights to ``out_model`` (atomically) and, beside it,
    ``<out_model>.json`` with ``provenance`` plus the training settings and the weights'
    SHA-256. Returns that description."""
    from importlib import metadata

    import torch
    from cellpose import models, train

    if len(images) != len(labels) or not len(images):
        raise ValueError(f"{len(images)} images and {len(labels)} label images")
    np.random.seed(seed)  # noqa: NPY002 -- Cellpose samples crops from the legacy global generator
    torch.manual_seed(seed)
    side = min(crop_px, *(min(im.shape) for im in images))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    # pretrained_model=False and no model_type: random weights, nothing fetched
    model = models.CellposeModel(pretrained_model=False, model_type=None, device=device)
    out = Path(out_model)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as work:
        saved = train.train_seg(
            model.net,
            train_data=[np.asarray(im, dtype=np.float32) for im in images],
            train_labels=[np.asarray(lab, dtype=np.int32) for lab in labels],
            channels=[0, 0],
            n_epochs=epochs,
            learning_rate=learning_rate,
            weight_decay=1e-4,
            batch_size=batch_size,
            bsize=side - side % 16,
            min_train_masks=1,
            save_path=work,
            save_every=epochs + 1,
            model_name="model",
        )
        saved = Path(saved[0] if isinstance(saved, tuple) else saved)
        tmp = out.with_name(f".{out.name}.tmp")
        shutil.copyfile(saved, tmp)
        os.replace(tmp, out)
    description = {
        **(provenance or {}),
        "cellpose": metadata.version("cellpose"),
        "epochs": epochs,
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        "seed": seed,
        "crop_px": side - side % 16,
        "images": len(images),
        "objects": int(sum(int(lab.max()) for lab in labels)),
        "weights_sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
    }
    tmp = out.with_name(f".{out.name}.json.tmp")
    tmp.write_text(json.dumps(description, indent=2, default=str))
    os.replace(tmp, out.with_name(f"{out.name}.json"))
    return description
