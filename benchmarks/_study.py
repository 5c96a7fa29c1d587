"""Train one configuration on a pair store and score it on the held-out pairs: the step
the training studies share (``study_derestormer.py``, ``study_feature_loss.py``)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd


def train_and_score(config, pairs: Path) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """``(by_dz, history, seconds)``: held-out metrics per |dz| (both sides; ``abs_dz``
    index) of the best-validation checkpoint, the training history, and training wall
    time. ``config``: a :class:`platefocus.train.loop.TrainConfig`; ``pairs``: the folder
    with ``pairs.zarr`` and ``pairs.parquet``."""
    from platefocus.io.pairs import read_pair_info
    from platefocus.model_io.checkpoint import load_model
    from platefocus.train.evaluate import evaluate_split, summarise_by_dz
    from platefocus.train.loop import train

    table = pd.read_parquet(pairs / "pairs.parquet")
    store = pairs / "pairs.zarr"
    with tempfile.TemporaryDirectory() as work:
        start = time.perf_counter()
        history = train(store, table, config, work, read_pair_info(store), progress=False)
        seconds = time.perf_counter() - start
        model, _ = load_model(Path(work) / "best.pt")
    by_dz = summarise_by_dz(evaluate_split(model, store, table))
    return by_dz[by_dz["side"] == "both"].set_index("abs_dz"), history, seconds
