"""CPU inference engines (``restore.backend``): the network exported to ONNX gives the
torch output within 1e-4 on the normalised scale at the tile size restored, and a plate
restored through an engine equals the torch one within a grey level."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from platefocus.errors import InputError
from platefocus.model_io import load_model
from platefocus.restore.backends import ExportedNetwork, with_backend
from platefocus.restore.inference import restore_planes
from platefocus.restore.settings import RestoreConfig

ENGINES = {"onnxruntime": "onnxruntime", "openvino": "openvino"}


@pytest.mark.parametrize("backend", sorted(ENGINES))
def test_the_exported_network_equals_torch_at_the_tile_size(tiny_checkpoints, backend):
    pytest.importorskip(ENGINES[backend])
    pytest.importorskip("onnxscript")
    model, _ = load_model(tiny_checkpoints["layer"])
    exported = with_backend(model, backend, batch=4, device=torch.device("cpu"))
    assert isinstance(exported, ExportedNetwork)
    tiles = torch.rand(6, 1, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = model(tiles)
        got = exported(tiles)  # one full batch of 4, then 2 padded to 4
    assert got.shape == expected.shape
    assert float((got - expected).abs().max()) <= 1e-4
    assert float((expected - tiles).abs().max()) > 1e-3  # the network does something
    with torch.no_grad():  # the exporter traced a copy: the shared network is as it was
        torch.testing.assert_close(model(tiles), expected, rtol=0, atol=0)


def test_a_plane_restored_through_onnxruntime_equals_torch(tiny_checkpoints):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    model, _ = load_model(tiny_checkpoints["layer"])
    stack = (np.random.default_rng(0).random((3, 100, 90)) * 4000).astype(np.uint16)
    config = RestoreConfig(tile=64, overlap=16, batch_size=4)
    expected = restore_planes(model, stack, [0, 2], config)
    engine = with_backend(model, "onnxruntime", 4, torch.device("cpu"))
    got = restore_planes(engine, stack, [0, 2], config)
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


def test_engines_refuse_what_they_cannot_run(tiny_checkpoints):
    model, _ = load_model(tiny_checkpoints["layer"])
    assert with_backend(model, "torch", 4, torch.device("cpu")) is model
    with pytest.raises(InputError, match=r"restore\.backend: onnxruntime runs on the CPU"):
        with_backend(model, "onnxruntime", 4, torch.device("cuda"))
    with pytest.raises(ValueError, match="backend must be one of"):
        RestoreConfig(backend="tensorrt")


def test_a_plate_restored_through_onnxruntime_equals_the_torch_plate(
    restored, pairs_dataset, tiny_checkpoints, tmp_path
):
    """The whole plate path (Dask threads sharing one engine) with ``backend:
    onnxruntime``: every restored plane within a grey level of the torch plate."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from platefocus.io.fields import field_array, list_fields
    from platefocus.io.omezarr import Acquisition
    from platefocus.io.plate_input import read_plate_manifest
    from platefocus.restore import PlaneSelection, restore_plate

    expected_plate, _ = restored
    _, _, ctx = pairs_dataset
    out = tmp_path / "ort.ome.zarr"
    restore_plate(
        ctx["plate"],
        ctx["manifest"],
        tiny_checkpoints["layer"],
        out,
        PlaneSelection(offsets=(-3, 3)),
        RestoreConfig(tile=64, overlap=16, backend="onnxruntime"),
        Acquisition(0.65, 2.0),
        best=ctx["best"],
        workers=2,
        progress=False,
    )
    manifest, _ = read_plate_manifest(out)
    for ref in list_fields(manifest):
        got = np.asarray(field_array(out, ref)).astype(int)
        expected = np.asarray(field_array(expected_plate, ref)).astype(int)
        assert np.abs(got - expected).max() <= 1, ref


def test_cpu_bf16_runs_the_network_in_bfloat16_on_a_cpu(tiny_checkpoints):
    """``restore.cpu_bf16``: the plane differs from float32 (bfloat16 was used) by a few
    grey levels at most; off, the CPU ignores ``bf16`` (CUDA's setting)."""
    model, _ = load_model(tiny_checkpoints["layer"])
    stack = (np.random.default_rng(0).random((3, 100, 90)) * 4000).astype(np.uint16)
    float32 = RestoreConfig(tile=64, overlap=16, batch_size=4, bf16=True)
    expected = restore_planes(model, stack, [0, 2], float32)
    got = restore_planes(model, stack, [0, 2], RestoreConfig(**{**vars(float32), "cpu_bf16": True}))
    diff = np.abs(got.astype(int) - expected.astype(int))
    assert diff.max() > 0
    assert diff.max() <= 0.01 * int(stack.max())
    assert float32.uses_bf16("cuda") and not float32.uses_bf16(torch.device("cpu"))


def test_openvino_in_bfloat16_stays_near_float32(tiny_checkpoints):
    pytest.importorskip("openvino")
    pytest.importorskip("onnxscript")
    model, _ = load_model(tiny_checkpoints["layer"])
    tiles = torch.rand(4, 1, 64, 64, generator=torch.Generator().manual_seed(0))
    engine = with_backend(model, "openvino", 4, torch.device("cpu"), bf16=True)
    with torch.no_grad():
        expected, got = model(tiles), engine(tiles)
    assert 0 < float((got - expected).abs().max()) <= 0.05


def test_onnxruntime_refuses_bfloat16(tiny_checkpoints):
    model, _ = load_model(tiny_checkpoints["layer"])
    with pytest.raises(InputError, match=r"restore\.cpu_bf16: onnxruntime runs float32 only"):
        with_backend(model, "onnxruntime", 4, torch.device("cpu"), bf16=True)
    with pytest.raises(ValueError, match="cpu_bf16 needs backend torch or openvino"):
        RestoreConfig(backend="onnxruntime", cpu_bf16=True)


def test_each_worker_thread_runs_its_own_engine_on_its_share(tiny_checkpoints, monkeypatch):
    """Dask worker threads sharing one engine ran each call on all the job's threads (two
    workers: twice as many threads as cores): each thread gets its own engine, loaded
    with its torch share, from the one export."""
    import threading

    import dask

    from platefocus.parallel import compute
    from platefocus.restore import backends

    pytest.importorskip("onnxscript")
    loaded: list[tuple[int, int]] = []
    exported: list[tuple[int, ...]] = []
    real_export = backends.export_onnx

    def fake_load(backend, path, threads, bf16=False):
        loaded.append((threading.get_ident(), threads))
        return lambda tiles: tiles[:, :1] * 2

    def counting_export(model, shape, path):
        exported.append(shape)
        return real_export(model, shape, path)

    monkeypatch.setattr(backends, "_load", fake_load)
    monkeypatch.setattr(backends, "export_onnx", counting_export)
    model, _ = load_model(tiny_checkpoints["layer"])
    engine = with_backend(model, "onnxruntime", 4, torch.device("cpu"))
    both_started = threading.Barrier(2, timeout=60)
    tiles = torch.rand(4, 1, 32, 32, generator=torch.Generator().manual_seed(0))

    def run() -> float:
        both_started.wait()  # two worker threads, not one taking both tasks
        return float(engine(tiles).sum())

    before = torch.get_num_threads()
    torch.set_num_threads(2)  # the job's threads
    try:
        sums = compute([dask.delayed(run)(), dask.delayed(run)()], workers=2, progress=False)
    finally:
        torch.set_num_threads(before)
    assert sums[0] == pytest.approx(float(tiles.sum() * 2))
    assert exported == [(4, 1, 32, 32)]  # exported once
    assert len({ident for ident, _ in loaded}) == 2  # an engine per thread
    assert [threads for _, threads in loaded] == [1, 1]  # each on its share of 2
