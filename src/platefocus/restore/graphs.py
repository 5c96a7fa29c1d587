"""The model's forward pass replayed as CUDA graphs: one launch per batch.

A small network (the default Restormer: about 600 kernels per call) spends as long
launching kernels as the GPU spends running them, and restoring a plate, the launching
thread shares Python's interpreter lock with the threads that read and write fields, so
the GPU waits for launches. A graph captured once per batch shape replays every kernel
of a call with one launch. PyTorch's own tool for this (``torch.cuda.graphs``); used
directly rather than through ``torch.compile(mode="reduce-overhead")``, which compiles
first (minutes) and recompiles for a field's last, smaller batch.

On a CPU, and where a capture fails (an operation a graph cannot hold), the model runs
as it is: the capture failure is logged once and that shape runs eagerly.
"""

from __future__ import annotations

import logging

import torch

log = logging.getLogger(__name__)


class GraphedForward(torch.nn.Module):
    """``model`` in inference, each input shape captured as a CUDA graph on first use.

    The output of a call is a view of the graph's static output buffer: it is valid until
    the next call with the same shape (the restore loop copies it out at once, on the
    same stream). bfloat16 autocast (``bf16``) is part of the capture.
    """

    def __init__(self, model: torch.nn.Module, bf16: bool):
        super().__init__()
        self.model, self.bf16 = model, bf16
        self._graphs: dict[tuple, tuple] = {}
        self._eager: set[tuple] = set()

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        # autocast's weight cache must be off inside a capture (PyTorch's CUDA graph notes)
        with torch.autocast("cuda", torch.bfloat16, enabled=self.bf16, cache_enabled=False):
            return self.model(x)

    def _capture(self, x: torch.Tensor) -> tuple:
        static_in = x.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up off the capture (lazy init, workspaces)
            for _ in range(2):
                self._forward(static_in)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        # thread-local: the reader and writer threads pin memory and wait on events
        # meanwhile, which a global capture would forbid
        with torch.cuda.graph(graph, capture_error_mode="thread_local"):
            static_out = self._forward(static_in)
        return graph, static_in, static_out

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        key = (tuple(x.shape), x.dtype, x.is_contiguous(memory_format=torch.channels_last))
        if x.device.type != "cuda" or key in self._eager:
            return self._forward(x) if x.device.type == "cuda" else self.model(x)
        if key not in self._graphs:
            try:
                self._graphs[key] = self._capture(x)
            except Exception as err:  # a kernel a graph cannot hold: run this shape eagerly
                log.warning("CUDA graph capture failed for %s (%s); running eagerly", key, err)
                torch.cuda.synchronize()
                self._eager.add(key)
                return self._forward(x)
        graph, static_in, static_out = self._graphs[key]
        static_in.copy_(x)
        graph.replay()
        return static_out


def with_cuda_graphs(model: torch.nn.Module, config, device: torch.device) -> torch.nn.Module:
    """``model`` wrapped in :class:`GraphedForward` when ``config.cuda_graphs``
    (``"auto"``: on CUDA) asks and the device is a GPU; else ``model`` itself. Never for
    a compiled model (``torch.compile`` has its own graphs) or one that takes plane
    offsets (DDNM samples with a generator of its own)."""
    from platefocus.models.registry import takes_offset

    if device.type != "cuda" or config.cuda_graphs is False or config.compile:
        return model
    if takes_offset(model):
        return model
    return GraphedForward(model, config.bf16)
