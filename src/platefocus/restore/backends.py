"""CPU inference engines for restoration: ``restore.backend`` ``torch`` (eager PyTorch),
``onnxruntime`` or ``openvino``.

The network is exported to ONNX once per process and tile shape (``torch.onnx.export``,
the dynamo exporter: the networks pad their input in Python, which the exporter freezes at
the tile size) and run by ONNX Runtime or OpenVINO (in float32 unless ``restore.cpu_bf16``:
OpenVINO's own CPU default is bfloat16 where the processor has it). The engines take one
batch shape: the last, partial batch of a field is padded with zeros and its padding
dropped. Both are optional extras
(``pip install 'platefocus[onnx]'``, ``'platefocus[openvino]'``); a missing one is a
one-line error naming it. Measured against eager PyTorch on the same tiles in
``benchmarks/bench_backends.py`` (the documentation's throughput page).
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import numpy as np
import torch

from platefocus.errors import InputError
from platefocus.restore.settings import BACKENDS

#: The exporter is not thread-safe (torch.export patches the module it traces): one
#: export at a time in a process, of a copy of the network, never of the shared one.
_EXPORT_LOCK = threading.Lock()

#: What to install for each engine.
_EXTRA = {"onnxruntime": "platefocus[onnx]", "openvino": "platefocus[openvino]"}


class ExportedNetwork(torch.nn.Module):
    """A network run by an ONNX engine on the CPU, called like the torch one:
    ``(B, C, T, T)`` float32 tiles in, ``(B, 1, T, T)`` out.

    Exported once per tile shape; each calling thread runs its own engine with that
    thread's torch thread count (:func:`platefocus.parallel.compute` gives each Dask worker
    thread its share of the job's threads). One engine shared by the workers ran each call
    on all of the job's threads at once: two workers, twice as many threads as cores
    (OpenVINO in bfloat16, 2 cores: restore efficiency 0.51 at 2 workers,
    ``benchmarks/bench_plate.py --scaling``)."""

    def __init__(self, model: torch.nn.Module, backend: str, batch: int, bf16: bool = False):
        super().__init__()
        self.backend, self.batch, self.bf16 = backend, batch, bf16
        self._model = [model]  # a list: not a submodule (its weights are not this one's)
        self._exported: dict[tuple[int, ...], Path] = {}
        self._local = threading.local()  # this thread's engines, by tile shape
        self._lock = threading.Lock()
        self._folder = tempfile.TemporaryDirectory(prefix="platefocus-onnx-")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(x)
        if n > self.batch:  # more than one batch: run them in turn
            return torch.cat([self(x[i : i + self.batch]) for i in range(0, n, self.batch)])
        tiles = x.detach().float().cpu().numpy()
        if n < self.batch:  # the engine takes one shape: pad, run, drop the padding
            pad = np.zeros((self.batch - n, *tiles.shape[1:]), np.float32)
            tiles = np.concatenate([tiles, pad])
        run = self._engine(tuple(tiles.shape))
        return torch.from_numpy(np.ascontiguousarray(run(np.ascontiguousarray(tiles))[:n]))

    def _engine(self, shape: tuple[int, ...]):
        engines = self._local.__dict__.setdefault("engines", {})
        if shape not in engines:
            with self._lock:  # one export per shape, however many threads ask at once
                if shape not in self._exported:
                    path = Path(self._folder.name) / f"{'x'.join(map(str, shape))}.onnx"
                    self._exported[shape] = export_onnx(self._model[0], shape, path)
            threads = torch.get_num_threads()  # this thread's share
            engines[shape] = _load(self.backend, self._exported[shape], threads, self.bf16)
        return engines[shape]


def export_onnx(model: torch.nn.Module, shape: tuple[int, ...], path: str | Path) -> Path:
    """Write ``model`` as an ONNX file for inputs of ``shape`` ``(B, C, T, T)``."""
    import logging
    import warnings

    try:
        import onnxscript  # noqa: F401  (the exporter needs it; say so before it fails)
    except ImportError:
        raise InputError(
            "restore.backend", f"exporting to ONNX needs {_EXTRA['onnxruntime']}"
        ) from None
    import copy

    example = torch.zeros(shape, dtype=torch.float32)
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with _EXPORT_LOCK, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            copy.deepcopy(model).eval(),
            (example,),
            str(path),
            input_names=["raw"],
            output_names=["restored"],
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    return Path(path)


def _load(backend: str, path: Path, threads: int, bf16: bool = False):
    """A callable ``tiles -> output`` of the engine on the ONNX file (OpenVINO in
    bfloat16 where ``bf16``, else float32)."""
    if backend == "onnxruntime":
        try:
            import onnxruntime as ort
        except ImportError:
            raise InputError("restore.backend", f"onnxruntime needs {_EXTRA[backend]}") from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return lambda tiles: session.run(None, {"raw": tiles})[0]
    try:
        import openvino as ov
    except ImportError:
        raise InputError("restore.backend", f"openvino needs {_EXTRA[backend]}") from None
    compiled = ov.Core().compile_model(
        str(path),
        "CPU",
        {
            "INFERENCE_NUM_THREADS": threads,
            "INFERENCE_PRECISION_HINT": "bf16" if bf16 else "f32",
            "NUM_STREAMS": 1,
            # one engine per worker thread: pinned, each would take the same first cores
            "ENABLE_CPU_PINNING": False,
        },
    )
    # one request per engine, an engine per thread; outputs are copies (share_outputs off)
    request = compiled.create_infer_request()
    return lambda tiles: request.infer({0: tiles})[0]


def with_backend(
    model: torch.nn.Module, backend: str, batch: int, device: torch.device, bf16: bool = False
) -> torch.nn.Module:
    """``model`` as ``restore.backend`` runs it (``torch``: unchanged; its bfloat16 is
    the caller's autocast). ``bf16``: OpenVINO in bfloat16; ONNX Runtime refuses it."""
    from platefocus.models.registry import takes_offset

    if backend not in BACKENDS:
        raise InputError("restore.backend", f"must be one of {BACKENDS}, got {backend!r}")
    if backend == "torch":
        return model
    if torch.device(device).type != "cpu":
        raise InputError("restore.backend", f"{backend} runs on the CPU; use torch on a GPU")
    if takes_offset(model):
        raise InputError(
            "restore.backend", f"{backend} cannot pass each plane's offset: use torch (DDNM)"
        )
    if bf16 and backend == "onnxruntime":
        raise InputError("restore.cpu_bf16", "onnxruntime runs float32 only: use torch or openvino")
    return ExportedNetwork(model, backend, batch, bf16)
