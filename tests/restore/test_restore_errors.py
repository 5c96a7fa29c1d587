"""Restore input that cannot work fails with a named error before anything is written."""

from __future__ import annotations

import pytest
import torch

from platefocus.errors import InputError
from platefocus.io.omezarr import Acquisition
from platefocus.io.partial import partial_path
from platefocus.restore import PlaneSelection, RestoreConfig, restore_plate


def _restore(ctx, checkpoint, out, selection):
    return restore_plate(
        ctx["plate"],
        ctx["manifest"],
        checkpoint,
        out,
        selection,
        RestoreConfig(tile=64, overlap=16),
        Acquisition(0.65, 2.0),
        best=ctx["best"],
        progress=False,
    )


def test_checkpoint_of_another_architecture_fails_before_writing(
    pairs_dataset, tiny_checkpoints, tmp_path
):
    state = torch.load(tiny_checkpoints["layer"], weights_only=False)
    state["model_kwargs"] = {**state["model_kwargs"], "width": 16}
    torch.save(state, tmp_path / "other.pt")
    out = tmp_path / "r.ome.zarr"
    with pytest.raises(InputError, match="do not fit the architecture") as err:
        _restore(pairs_dataset[2], tmp_path / "other.pt", out, PlaneSelection(offsets=(-3, 3)))
    assert "other.pt" in str(err.value)
    assert not out.exists() and not partial_path(out).exists()


def test_planes_outside_every_stack_are_an_error(pairs_dataset, tiny_checkpoints, tmp_path):
    out = tmp_path / "r.ome.zarr"
    with pytest.raises(InputError, match=r"plane\(s\) \[99\] are in no stack"):
        _restore(pairs_dataset[2], tiny_checkpoints["layer"], out, PlaneSelection("list", z=(99,)))
    assert not out.exists() and not partial_path(out).exists()


def test_a_mislabelled_checkpoint_names_one_architecture(tiny_checkpoints, tmp_path):
    """Weights holding a parameter the labelled architecture does not have: the message
    names the label alone (not torch's class name as a second architecture) and what does
    not fit."""
    from platefocus.model_io.checkpoint import load_model

    state = torch.load(tiny_checkpoints["layer"], weights_only=False)
    state["model_state"] = {"enc.0.weight": torch.zeros(3), **state["model_state"]}
    torch.save(state, tmp_path / "mislabelled.pt")
    with pytest.raises(InputError) as err:
        load_model(tmp_path / "mislabelled.pt")
    message = str(err.value)
    assert f"architecture {state['model']!r}" in message and "1 not its own" in message
    assert "state_dict for" not in message
