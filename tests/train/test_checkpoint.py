"""Seeded training writes byte-identical checkpoints (wall time is kept out of them); a
full disk is named as one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch


def test_seeded_training_gives_byte_identical_checkpoints(pairs_dataset, tmp_path):
    from platefocus.train import TrainConfig, train

    path, table, _ = pairs_dataset
    config = TrainConfig(
        model="restormer",
        model_kwargs={"levels": 1, "width": 8, "norm": "layer"},
        epochs=2,
        max_steps_per_epoch=2,
        threads=1,
    )
    for run in ("a", "b"):
        train(path, table, config, tmp_path / run, progress=False)
    assert (tmp_path / "a" / "best.pt").read_bytes() == (tmp_path / "b" / "best.pt").read_bytes()
    assert "train_seconds" in torch.load(tmp_path / "a" / "last.pt", weights_only=False)


def test_a_changed_dataset_is_not_resumed(pairs_dataset, tmp_path, caplog):
    """Another split (dataset.seed) used to resume the old model silently."""
    from platefocus.train import TrainConfig, train

    path, table, _ = pairs_dataset
    config = TrainConfig(
        model="restormer",
        model_kwargs={"levels": 1, "width": 8, "norm": "layer"},
        epochs=3,
        max_steps_per_epoch=2,
        threads=1,
    )
    train(path, table, config, tmp_path, progress=False, stop_after_epochs=1)
    resplit = table.assign(split=table["split"].replace({"train": "val", "val": "train"}))
    with caplog.at_level("INFO", logger="platefocus.train.loop"):
        history = train(path, resplit, config, tmp_path, progress=False)
    assert "trained on another dataset" in caplog.text
    assert "resuming" not in caplog.text
    assert history["epoch"].tolist() == [1, 2, 3]  # started over
    with caplog.at_level("INFO", logger="platefocus.train.loop"):
        caplog.clear()
        train(path, resplit, config, tmp_path, progress=False)  # same dataset: resumes
    assert "resuming" in caplog.text


def test_a_full_disk_says_so(tmp_path, monkeypatch):
    """torch reports a short write as "unexpected pos"; the error names the file and the
    free space, and leaves no partial file behind."""
    import shutil
    from collections import namedtuple

    from platefocus.errors import InputError
    from platefocus.model_io.checkpoint import save_checkpoint

    def short_write(state, path):
        Path(path).write_bytes(b"x" * 10)
        raise RuntimeError(
            "[enforce fail at inline_container.cc:664] . unexpected pos 257920 vs 257812"
        )

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(torch, "save", short_write)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(10**9, 10**9 - 4096, 4096))
    with pytest.raises(InputError, match=r"checkpoint.pt: could not be written: 0 MiB free"):
        save_checkpoint({"a": 1}, tmp_path / "checkpoint.pt")
    assert list(tmp_path.iterdir()) == []
