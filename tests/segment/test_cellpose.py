"""Cellpose calls from the threads of a stage (no Cellpose model needed: a stand-in model
records how many of its calls overlap)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from platefocus.segment import cellpose


class _OverlapRecorder:
    """A stand-in for a Cellpose model: labels one disc per plane, and records the most
    calls that were inside ``eval`` at the same time."""

    def __init__(self):
        self.inside = 0
        self.most_inside = 0
        self._count = threading.Lock()

    def eval(self, planes, **_):
        with self._count:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        time.sleep(0.05)  # long enough for the other threads to arrive
        with self._count:
            self.inside -= 1
        yy, xx = np.mgrid[:64, :64]
        disc = ((yy - 32) ** 2 + (xx - 32) ** 2 <= 10**2).astype(np.int32)
        return [disc.copy() for _ in planes], None, None


def test_cellpose_calls_from_several_threads_run_one_at_a_time(monkeypatch):
    model = _OverlapRecorder()
    monkeypatch.setattr(cellpose, "load_model", lambda path: model)
    plane = np.zeros((64, 64), np.float32)
    with ThreadPoolExecutor(4) as pool:
        calls = [pool.submit(cellpose.cellpose_labels, [plane], (10, 40), "m") for _ in range(8)]
        results = [call.result() for call in calls]
    assert model.most_inside == 1
    # the disc (diameter 21 px, inside the range, off the border) is kept in every result
    assert all(r[0].max() == 1 for r in results)
