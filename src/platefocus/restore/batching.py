"""How many tiles go through the model at once, and the model prepared for a device."""

from __future__ import annotations

import logging

import torch

from platefocus.models.registry import apply_model
from platefocus.restore.settings import RestoreConfig

log = logging.getLogger(__name__)

#: Tiles per call on a CPU: the fastest measured as a restore job runs the network, one
#: intra-op thread per Dask worker (``benchmarks/bench_cpu_batch.py``, 2 cores: one tile
#: per call 1.50x the tiles per second of four, the same output). Cache-bound: a larger
#: batch's feature maps spill out of each core's own cache.
CPU_BATCH = 1
#: Share of the device's free memory that tile batches may take, and the largest batch.
MEMORY_SHARE, MAX_BATCH = 0.5, 1024
#: Tiles in the probe batch that measures memory per tile.
PROBE = 4


def batch_from_memory(free_bytes: int, bytes_per_tile: float) -> int:
    """The batch that fills ``MEMORY_SHARE`` of ``free_bytes``, between 1 and ``MAX_BATCH``."""
    if bytes_per_tile <= 0:
        return MAX_BATCH
    return int(max(1, min(MAX_BATCH, MEMORY_SHARE * free_bytes // bytes_per_tile)))


#: Batch sizes tried by the timing probe (those that fit the memory share).
CANDIDATES = (8, 16, 32, 64, 128, 256, 512, 1024)


def batch_candidates(limit: int, most_tiles: int | None = None) -> list[int]:
    """The :data:`CANDIDATES` up to the memory ``limit`` (the limit itself when none fits),
    and up to the first that holds ``most_tiles`` (the most tiles one call can get)."""
    fitting = [b for b in CANDIDATES if b <= limit] or [limit]
    if most_tiles is None:
        return fitting
    useful = [b for b in fitting if b < most_tiles]
    return useful + [b for b in fitting if b >= most_tiles][:1] or fitting[:1]


@torch.no_grad()
def choose_batch_size(
    model: torch.nn.Module,
    config: RestoreConfig,
    in_channels: int,
    device: torch.device,
    most_tiles: int | None = None,
) -> int:
    """``config.batch_size``, or for ``"auto"``: ``CPU_BATCH`` on a CPU; on CUDA, the
    fastest of the :data:`CANDIDATES` that fit half the free memory.

    ``most_tiles``: the most tiles one call can get (a field's restored planes x tiles per
    plane); larger candidates are not tried, since no call would fill them.

    Memory per tile comes from the peak memory of a probe batch of ``PROBE`` tiles. The
    fastest batch is not the largest: on an H200 the default Restormer ran 17 Mpix/s at
    1024 tiles of 160 x 160 per call (the memory limit) and 29 Mpix/s through MONAI's
    sliding window at 16 per call (benchmarks/bench_restore.py), so candidates are timed.
    """
    if config.batch_size != "auto":
        return int(config.batch_size)
    if device.type != "cuda":
        return CPU_BATCH
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    x = torch.zeros((PROBE, in_channels, config.tile, config.tile), device=device)
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=config.bf16):
        apply_model(model, x)
    per_tile = (torch.cuda.max_memory_allocated(device) - base) / PROBE
    free, _ = torch.cuda.mem_get_info(device)
    limit = batch_from_memory(free, per_tile)
    batch = fastest_batch(model, config, in_channels, device, batch_candidates(limit, most_tiles))
    log.info(
        "batch_size auto: %d tiles (memory allows %d: %.1f MiB per tile, %.1f GiB free)",
        batch,
        limit,
        per_tile / 2**20,
        free / 2**30,
    )
    return batch


@torch.no_grad()
def fastest_batch(
    model: torch.nn.Module,
    config: RestoreConfig,
    in_channels: int,
    device: torch.device,
    candidates: list[int],
    repeats: int = 2,
) -> int:
    """The candidate batch size with the most tiles per second (after one warm-up call
    each; ``torch.cuda.synchronize`` around the timed calls on CUDA)."""
    import time

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    use_bf16 = config.uses_bf16(device)
    rates: dict[int, float] = {}
    for batch in candidates:
        if (
            len(rates) >= 2
            and all(  # two sizes in a row slower than the best: past the peak
                rates[b] < 0.95 * max(rates.values()) for b in list(rates)[-2:]
            )
        ):
            break
        x = torch.zeros((batch, in_channels, config.tile, config.tile), device=device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            apply_model(model, x)
            sync()
            t0 = time.perf_counter()
            for _ in range(repeats):
                apply_model(model, x)
            sync()
        rates[batch] = batch * repeats / (time.perf_counter() - t0)
    log.debug("tiles/s by batch size: %s", {b: round(r, 1) for b, r in rates.items()})
    return max(rates, key=rates.get)


def prepare_model(model: torch.nn.Module, config: RestoreConfig) -> torch.nn.Module:
    """The model in channels-last format and/or compiled, as ``config`` asks; ``model``
    itself is left as it is (it is the process's shared copy,
    :func:`platefocus.model_io.load_model`: converting it in place would change what
    every later restore in the process computes, by a grey level here and there)."""
    if config.channels_last:
        import copy

        model = copy.deepcopy(model).to(memory_format=torch.channels_last)
    if config.compile:
        model = torch.compile(model)
    return model
