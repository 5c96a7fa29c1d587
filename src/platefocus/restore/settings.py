"""Tiling and batching settings of restoration (no torch: the workflow checks them
before any work starts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from platefocus.dataset.normalise import DEFAULT_PERCENTILES

#: ``restore.backend`` values: the CPU inference engines (:mod:`platefocus.restore.backends`).
BACKENDS = ("torch", "onnxruntime", "openvino")


@dataclass(frozen=True)
class RestoreConfig:
    """Tiling and batching of restoration.

    Attributes
    ----------
    tile, overlap : int
        Tile side and overlap between neighbouring tiles, pixels.
    batch_size : int or "auto"
        Tiles per model call (tiles of all planes of a field are batched together);
        ``"auto"``: from the device's free memory (see
        :func:`platefocus.restore.batching.choose_batch_size`).
    percentiles : (float, float)
        Normalisation percentiles (use the training ones).
    bf16 : bool
        bfloat16 autocast on CUDA.
    cpu_bf16 : bool
        bfloat16 on a CPU too: torch autocast, or OpenVINO's bf16 inference precision
        (ONNX Runtime runs float32 only). About twice as fast where the processor has
        bfloat16 instructions (AVX-512 BF16, AMX); the held-out PSNR change is measured
        by ``benchmarks/bench_precision.py``. Off by default: outputs differ from
        float32 in the last grey levels.
    border : {"odd", "even"}
        How planes are continued beyond their border for the network's context:
        point reflection (default, no rim) or plain mirror (see
        :data:`platefocus.restore.tiling.REFLECT_TYPES`).
    channels_last, compile : bool
        Channels-last memory format and ``torch.compile`` for the model (GPU settings).
    cuda_graphs : "auto" or bool
        Replay the model's forward pass as a CUDA graph per batch shape
        (:mod:`platefocus.restore.graphs`): one launch per batch instead of one per
        kernel, so the host's threads (reading, writing) cannot starve the device of
        launches; ``"auto"``: on a GPU. Ignored on a CPU.
    skip_within_um : float or None
        Selective restoration: planes estimated within this distance of focus (um) are
        copied, not restored (:mod:`platefocus.restore.selective`); None restores all.
    prefetch : "auto" or bool
        Read fields ahead and write results behind in threads around one inference
        thread (:mod:`platefocus.restore.stream`), so that the device does not wait for
        the host; ``"auto"``: on a GPU. Otherwise fields are parallel Dask tasks.
    operator : str or None
        A defocus-operator file (``models/operator.npz``): every restored plane is
        projected onto its observation with the kernel of its offset from focus
        (``restore.projection``, :mod:`platefocus.restore.projection`); None: not.
    projection_regularisation : float or None
        The projection's Tikhonov lam (``consistency.projection_regularisation``; None:
        each plane's noise-to-signal power).
    backend : {"torch", "onnxruntime", "openvino"}
        The engine that runs the network (:mod:`platefocus.restore.backends`); the two
        ONNX engines run on a CPU only.
    """

    tile: int = 256
    overlap: int = 32
    batch_size: int | str = "auto"
    percentiles: tuple[float, float] = DEFAULT_PERCENTILES
    bf16: bool = True
    cpu_bf16: bool = False
    border: str = "odd"
    channels_last: bool = False
    compile: bool = False
    cuda_graphs: bool | str = "auto"
    skip_within_um: float | None = None
    prefetch: bool | str = "auto"
    operator: str | None = None
    projection_regularisation: float | None = 1.0
    backend: str = "torch"

    def __post_init__(self) -> None:
        if self.tile < 8:
            raise ValueError(f"tile must be >= 8 pixels, got {self.tile}")
        if not 0 <= self.overlap < self.tile:
            raise ValueError(f"overlap must be >= 0 and < tile ({self.tile}), got {self.overlap}")
        if self.batch_size != "auto" and not (
            isinstance(self.batch_size, int) and self.batch_size >= 1
        ):
            raise ValueError(f"batch_size must be >= 1 or 'auto', got {self.batch_size!r}")
        if self.border not in ("odd", "even"):
            raise ValueError(f"border must be 'odd' or 'even', got {self.border!r}")
        if self.prefetch not in ("auto", True, False):
            raise ValueError(f"prefetch must be 'auto', true or false, got {self.prefetch!r}")
        if self.cuda_graphs not in ("auto", True, False):
            raise ValueError(f"cuda_graphs must be 'auto', true or false, got {self.cuda_graphs!r}")
        if self.projection_regularisation is not None and self.projection_regularisation < 0:
            raise ValueError(
                f"projection_regularisation must be >= 0, got {self.projection_regularisation}"
            )
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.cpu_bf16 and self.backend == "onnxruntime":
            raise ValueError("cpu_bf16 needs backend torch or openvino: onnxruntime runs float32")
        if self.skip_within_um is not None and self.skip_within_um < 0:
            raise ValueError(f"skip_within_um must be >= 0 or null, got {self.skip_within_um}")

    @classmethod
    def from_config(cls, restore: dict, percentiles: Sequence[float]) -> RestoreConfig:
        """Tiling and batching from the workflow's ``restore`` section; the percentiles
        are the checkpoint's (see :attr:`platefocus.model_io.ModelInfo.percentiles`)."""
        return cls(
            tile=restore["tile"],
            overlap=restore["overlap"],
            batch_size=restore["batch_size"],
            percentiles=tuple(percentiles),
            bf16=restore["bf16"],
            border=restore["border"],
            channels_last=restore["channels_last"],
            compile=restore["compile"],
            skip_within_um=restore.get("skip_within_um"),
            prefetch=restore.get("prefetch", "auto"),
            cuda_graphs=restore.get("cuda_graphs", "auto"),
            backend=restore.get("backend", cls.backend),
            cpu_bf16=restore.get("cpu_bf16", cls.cpu_bf16),
        )

    def uses_bf16(self, device: str | object) -> bool:
        """Whether the network runs in bfloat16 on ``device`` (``bf16`` on CUDA,
        ``cpu_bf16`` on a CPU)."""
        kind = getattr(device, "type", str(device).split(":")[0])
        return self.bf16 if kind == "cuda" else self.cpu_bf16
