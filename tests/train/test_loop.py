"""Training: beats the identity, deterministic on CPU, resumes after a kill to the same result."""

import itertools
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch

from platefocus.model_io import load_model
from platefocus.train import TrainConfig, lr_factor, train
from platefocus.train.evaluate import evaluate_split, summarise_by_dz

TINY = TrainConfig(
    model="restormer",
    # LayerNorm, as the workflow trains it: MONAI's InstanceNorm loses each patch's
    # intensity level and stayed below the identity's PSNR at 6-8 um (26.4 vs 27.9 dB).
    model_kwargs={"levels": 2, "width": 8, "norm": "layer"},
    epochs=6,
    batch_size=16,
    max_steps_per_epoch=12,
    lr=3e-3,
    seed=0,
    threads=1,
)


def states_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def trained(pairs_dataset, tmp_path_factory):
    path, table, _ = pairs_dataset
    work = tmp_path_factory.mktemp("train")
    history = train(path, table, TINY, work, progress=False)
    return work, history


def test_beats_identity_at_every_dz(pairs_dataset, trained):
    path, table, _ = pairs_dataset
    work, history = trained
    assert history["val_loss"].iloc[-1] < history["val_loss"].iloc[0]
    model, info = load_model(work / "best.pt")
    summary = summarise_by_dz(evaluate_split(model, path, table))
    both = summary[summary["side"] == "both"]
    assert len(both) == 2  # |dz| = 3 and 4
    assert (both["ssim_pred"] > both["ssim_input"]).all(), both.to_string()
    assert (both["psnr_pred"] > both["psnr_input"]).all(), both.to_string()
    assert info.training["model"] == "restormer"


def test_seeded_training_is_deterministic_on_cpu(pairs_dataset, trained, tmp_path):
    path, table, _ = pairs_dataset
    work, history = trained
    again = train(path, table, TINY, tmp_path, progress=False)
    pd.testing.assert_frame_equal(history, again)
    a = torch.load(work / "last.pt", weights_only=False)["model_state"]
    b = torch.load(tmp_path / "last.pt", weights_only=False)["model_state"]
    assert states_equal(a, b)


def test_resume_after_kill_reaches_the_uninterrupted_result(pairs_dataset, trained, tmp_path):
    path, table, _ = pairs_dataset
    work, _ = trained
    table_file = tmp_path / "table.parquet"
    table.to_parquet(table_file)
    killed = tmp_path / "killed"
    script = (
        "import pandas as pd, dataclasses, time;"
        "from platefocus.train.loop import train, TrainConfig;"
        f"cfg = TrainConfig(**{TINY.__dict__!r});"
        f"train({str(path)!r}, pd.read_parquet({str(table_file)!r}), cfg, {str(killed)!r},"
        " progress=False)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    last = killed / "last.pt"
    deadline = time.time() + 300
    while time.time() < deadline:
        if last.exists():
            epoch = torch.load(last, weights_only=False)["epoch"]
            if epoch >= 1:
                break
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    interrupted_at = torch.load(last, weights_only=False)["epoch"]
    assert interrupted_at < TINY.epochs - 1, "the run finished before it could be killed"
    train(path, table, TINY, killed, progress=False)  # resumes
    resumed = torch.load(last, weights_only=False)
    reference = torch.load(work / "last.pt", weights_only=False)
    assert resumed["epoch"] == reference["epoch"] == TINY.epochs - 1
    assert states_equal(resumed["model_state"], reference["model_state"])
    assert [h["train_loss"] for h in resumed["history"]] == [
        h["train_loss"] for h in reference["history"]
    ]


def test_stop_and_resume_in_process(pairs_dataset, trained, tmp_path):
    path, table, _ = pairs_dataset
    work, _ = trained
    train(path, table, TINY, tmp_path, progress=False, stop_after_epochs=2)
    assert torch.load(tmp_path / "last.pt", weights_only=False)["epoch"] == 1
    train(path, table, TINY, tmp_path, progress=False)
    a = torch.load(work / "last.pt", weights_only=False)["model_state"]
    b = torch.load(tmp_path / "last.pt", weights_only=False)["model_state"]
    assert states_equal(a, b)


def test_schedule_warms_up_then_decays():
    values = [lr_factor(s, 5, 50) for s in range(50)]
    assert values[0] == pytest.approx(0.2) and values[4] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(values[4:]))
    assert values[-1] < 0.01


def test_cuda_requested_without_cuda():
    from platefocus.model_io.checkpoint import choose_device

    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            choose_device("cuda")
    assert choose_device("cpu").type == "cpu"


def test_each_model_entry_may_carry_its_architecture_and_loss():
    """training.models entries: the architecture's arguments, plus an optional
    ``architecture`` (one architecture twice under two names) and their own ``loss``."""
    training = {
        "models": {
            "restormer": {"levels": 2},
            "restormer_mse": {"architecture": "restormer", "levels": 2, "loss": {"mse": 1.0}},
        },
        "loss": {"ssim": 0.7, "l1": 0.3},
        "epochs": 3,
    }
    shared = TrainConfig.from_config(training, "restormer")
    own = TrainConfig.from_config(training, "restormer_mse")
    assert (shared.model, shared.model_kwargs, shared.loss) == (
        "restormer",
        {"levels": 2},
        {"ssim": 0.7, "l1": 0.3},
    )
    assert (own.model, own.model_kwargs, own.loss) == ("restormer", {"levels": 2}, {"mse": 1.0})
    assert own.epochs == shared.epochs == 3


def test_a_model_entry_may_set_its_own_training_settings():
    """``patience``, ``lr``, ``weight_decay``, ``grad_clip`` of one entry override the
    section's for that model only, and are not taken for architecture arguments."""
    training = {
        "models": {"restormer": {"levels": 2}, "derestormer": {"levels": 2, "patience": 0}},
        "patience": 5,
        "lr": 2e-3,
    }
    own = TrainConfig.from_config(training, "derestormer")
    assert own.patience == 0 and own.model_kwargs == {"levels": 2} and own.lr == 2e-3
    assert TrainConfig.from_config(training, "restormer").patience == 5
    from platefocus.models.catalog import check_model_arguments

    check_model_arguments(training["models"])  # patience is no architecture argument


def test_a_model_own_loss_reaches_its_checkpoint(pairs_dataset, tmp_path):
    import dataclasses

    from platefocus.model_io import read_model_info

    path, table, _ = pairs_dataset
    config = dataclasses.replace(TINY, loss={"mse": 1.0}, epochs=1, max_steps_per_epoch=2)
    train(path, table, config, tmp_path, progress=False)
    info = read_model_info(tmp_path / "best.pt")
    assert info.loss == {"mse": 1.0} and info.architecture == TINY.model


def test_model_labels_name_each_model_with_its_loss():
    from platefocus.pipeline.common import model_labels

    training = {
        "models": {"unet": {}, "restormer_mse": {"architecture": "restormer", "loss": {"mse": 1}}},
        "loss": {"ssim": 0.7, "l1": 0.1, "mse": 0.2},
    }
    assert model_labels(training) == ["unet (ssim 0.7 + l1 0.1 + mse 0.2)", "restormer_mse (mse 1)"]


def test_offset_predictors_train_at_their_fraction_of_the_learning_rate():
    """Deformable layers' offset predictors get ``offset_lr_scale`` x the rate, in their
    own optimiser group; every other parameter the full rate, each parameter once."""
    from platefocus.models import build_model
    from platefocus.train.optim import parameter_groups

    model = build_model("derestormer", levels=2, width=8, points=4, offset_lr_scale=0.1)
    groups = parameter_groups(model, 2e-3)
    assert [g["lr"] for g in groups] == pytest.approx([2e-3, 2e-4])
    offsets = {id(p) for m in model.modules() if hasattr(m, "lr_scale") for p in m.parameters()}
    assert {id(p) for p in groups[1]["params"]} == offsets and offsets
    every = [id(p) for g in groups for p in g["params"]]
    assert sorted(every) == sorted(id(p) for p in model.parameters())
    # at the full rate (scale 1) there is one group
    plain = build_model("derestormer", levels=2, width=8, points=4, offset_lr_scale=1.0)
    assert len(parameter_groups(plain, 2e-3)) == 1


def test_offsets_move_less_at_a_smaller_rate_and_clipping_bounds_the_step(pairs_dataset, tmp_path):
    """A few training steps: offset predictors at 0.1x the rate move about a tenth as far
    (AdamW steps scale with the rate); clipping gradients to a tiny norm still trains."""
    import dataclasses

    path, table, _ = pairs_dataset
    moved = {}
    for scale in (1.0, 0.1):
        config = dataclasses.replace(
            TINY,
            model="derestormer",
            model_kwargs={"levels": 2, "width": 8, "points": 4, "offset_lr_scale": scale},
            epochs=1,
            max_steps_per_epoch=3,  # one step left the offsets at zero in both runs
        )
        work = tmp_path / str(scale)
        train(path, table, config, work, progress=False)
        state = load_model(work / "best.pt")[0].state_dict()
        fresh = build_fresh(config)
        key = next(k for k in state if k.endswith("attn.offsets.weight"))
        moved[scale] = (state[key] - fresh[key]).abs().max().item()
    assert moved[0.1] < 0.2 * moved[1.0]
    clipped = dataclasses.replace(TINY, epochs=1, max_steps_per_epoch=2, grad_clip=1e-3)
    history = train(path, table, clipped, tmp_path / "clipped", progress=False)
    assert len(history) == 1 and history["train_loss"].notna().all()


def build_fresh(config):
    """The untrained weights a seeded run starts from."""
    from platefocus.models import build_model

    torch.manual_seed(config.seed)
    return build_model(config.model, in_channels=1, **config.model_kwargs).state_dict()
