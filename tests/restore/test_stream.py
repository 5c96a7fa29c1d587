"""The read-ahead / write-behind pipeline: order, bounds, errors; and the sync-free pieces
of the device path (run on the CPU)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from platefocus.restore.device import _linear_quantiles, launch_on_device, prepare_input
from platefocus.restore.settings import RestoreConfig
from platefocus.restore.stream import stream


def test_results_come_back_in_order_with_inference_on_the_calling_thread():
    caller = threading.get_ident()
    inferred_on = set()

    def read(i):
        time.sleep(0.002 * (i % 3))  # readers finish out of order
        return i * 10

    def infer(i, data):
        inferred_on.add(threading.get_ident())
        return data + 1

    def write(i, data, pending):
        time.sleep(0.001 * (i % 2))
        return (i, data, pending)

    got = stream(list(range(20)), read, infer, write, readers=3, writers=3, progress=False)
    assert got == [(i, 10 * i, 10 * i + 1) for i in range(20)]
    assert inferred_on == {caller}


def test_reading_ahead_and_writing_behind_are_bounded():
    lock = threading.Lock()
    state = {"read": 0, "written": 0, "most_ahead": 0, "most_behind": 0, "inferred": 0}

    def read(i):
        with lock:
            state["read"] += 1
            state["most_ahead"] = max(state["most_ahead"], state["read"] - state["inferred"])
        return i

    def infer(i, data):
        with lock:
            state["inferred"] += 1
            behind = state["inferred"] - state["written"]
            state["most_behind"] = max(state["most_behind"], behind)
        return data

    def write(i, data, pending):
        time.sleep(0.003)  # slow writer: inference must wait for it, not pile up
        with lock:
            state["written"] += 1

    stream(list(range(30)), read, infer, write, readers=2, writers=1, depth=3, progress=False)
    assert state["written"] == 30
    assert state["most_ahead"] <= 3 + 1  # depth read ahead, plus the one being inferred
    assert state["most_behind"] <= 3 + 1


@pytest.mark.parametrize("stage", ["read", "infer", "write"])
def test_the_first_error_stops_the_pipeline(stage):
    done = []

    def fail_at(name, i):
        if name == stage and i == 5:
            raise ValueError(f"{name} failed at {i}")

    def read(i):
        fail_at("read", i)
        return i

    def infer(i, data):
        fail_at("infer", i)
        return data

    def write(i, data, pending):
        fail_at("write", i)
        done.append(i)

    with pytest.raises(ValueError, match=f"{stage} failed at 5"):
        stream(list(range(50)), read, infer, write, readers=2, writers=2, depth=2, progress=False)
    assert len(done) < 50


def test_quantiles_from_one_sort_equal_numpy_percentiles():
    rng = np.random.default_rng(0)
    values = rng.random((3, 1001)).astype(np.float32) * 4000
    got = _linear_quantiles(torch.from_numpy(values), [0.01, 0.998]).numpy()
    expected = np.percentile(values.astype(np.float64), [1.0, 99.8], axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_prepared_input_holds_only_the_planes_needed():
    stack = np.arange(6 * 20 * 20, dtype=np.uint16).reshape(6, 20, 20)
    prepared = prepare_input(stack, [0, 4], context_planes=1)
    # planes 0 (context: 0, 0, 1) and 4 (3, 4, 5): 0, 1, 3, 4, 5
    assert prepared.source.shape == (5, 20, 20) and prepared.source.dtype == torch.float32
    np.testing.assert_array_equal(prepared.source[prepared.centre[1]].numpy(), stack[4])
    assert prepared.channels == [[0, 0, 1], [2, 3, 4]]


def test_launch_then_wait_equals_the_one_call_path():
    from platefocus.restore.device import restore_planes_on_device

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding=1), torch.nn.Tanh()).eval()
    stack = (np.random.default_rng(2).random((4, 70, 90)) * 3000).astype(np.uint16)
    config = RestoreConfig(tile=32, overlap=8, batch_size=7)
    pending = launch_on_device(model, prepare_input(stack, [1, 3]), config, "cpu")
    np.testing.assert_array_equal(
        pending.numpy(), restore_planes_on_device(model, stack, [1, 3], config, "cpu")
    )


def test_stats_say_where_the_inference_thread_waited():
    def read(i):
        time.sleep(0.02)  # slow reads: the inference thread waits for them
        return i

    stats: dict = {}
    stream(
        list(range(6)),
        read,
        lambda i, d: d,
        lambda i, d, p: p,
        readers=1,
        writers=1,
        depth=1,
        progress=False,
        stats=stats,
    )
    assert set(stats) == {"read_wait", "infer", "write_wait", "wall"}
    assert stats["read_wait"] >= 0.05  # at least most of the 6 x 20 ms of serial reading
    assert stats["read_wait"] + stats["infer"] + stats["write_wait"] <= stats["wall"] + 1e-6
