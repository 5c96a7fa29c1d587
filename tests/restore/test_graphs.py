"""CUDA-graph replay of the restore model: when it applies. (That the replay equals the
eager forward pixel for pixel needs a GPU: ``benchmarks/check_gpu.py``.)"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from platefocus.models import build_model
from platefocus.restore.graphs import GraphedForward, with_cuda_graphs
from platefocus.restore.settings import RestoreConfig

CUDA = torch.device("cuda")  # a device object only: nothing here touches a GPU


@pytest.fixture(scope="module")
def unet():
    return build_model("unet").eval()


def test_graphs_wrap_the_model_on_a_gpu_only(unet):
    config = RestoreConfig()
    assert config.cuda_graphs == "auto"
    assert isinstance(with_cuda_graphs(unet, config, CUDA), GraphedForward)
    assert with_cuda_graphs(unet, config, torch.device("cpu")) is unet
    off = dataclasses.replace(config, cuda_graphs=False)
    assert with_cuda_graphs(unet, off, CUDA) is unet


def test_no_graphs_for_a_compiled_model_or_one_that_takes_offsets(unet):
    compiled = dataclasses.replace(RestoreConfig(), compile=True)
    assert with_cuda_graphs(unet, compiled, CUDA) is unet
    ddnm = build_model("ddnm", width=8)
    assert with_cuda_graphs(ddnm, RestoreConfig(), CUDA) is ddnm


def test_a_cpu_input_runs_the_model_itself(unet):
    x = torch.rand(2, 1, 32, 48)
    with torch.no_grad():
        assert torch.equal(GraphedForward(unet, bf16=True)(x), unet(x))


def test_the_setting_is_checked():
    with pytest.raises(ValueError, match="cuda_graphs"):
        RestoreConfig(cuda_graphs="sometimes")
