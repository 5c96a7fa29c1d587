"""Read ahead, infer in one thread, write behind: a three-stage pipeline over fields.

On a GPU the device should never wait for the host. Reader threads read and prepare the
next fields while the calling thread queues the current one on the device, and writer
threads wait for finished results and write them, so that reading, inference and
writing overlap. At most ``depth`` fields are read ahead and at most ``depth`` results
wait to be written, which bounds host and device memory. Results come back in order; the
first error stops the pipeline and is raised.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from tqdm.auto import tqdm

Item = TypeVar("Item")


def stream(
    items: Sequence[Item],
    read: Callable[[Item], object],
    infer: Callable[[Item, object], object],
    write: Callable[[Item, object, object], object],
    *,
    readers: int = 2,
    writers: int = 2,
    depth: int = 4,
    progress: bool = True,
    desc: str = "restoring fields",
    stats: dict | None = None,
) -> list:
    """``write(item, read(item), infer(item, read(item)))`` for every item, in order.

    ``read`` runs on ``readers`` threads at most ``depth`` items ahead; ``infer`` runs on
    the calling thread (the one that owns the device); ``write`` runs on ``writers``
    threads, at most ``depth`` pending. Returns the values of ``write``.

    ``stats``, when given, receives where the calling thread spent its time, seconds:
    ``read_wait`` (for a read), ``infer`` (in ``infer``: on a GPU, queuing work),
    ``write_wait`` (for a write: the results waiting, ``depth`` of them, were not yet
    written) and ``wall``. Read waits or write waits mean the host, not the device,
    sets the pace.
    """
    depth = max(1, depth)
    results: list = []
    spent = dict.fromkeys(("read_wait", "infer", "write_wait"), 0.0)
    start = time.perf_counter()
    with (
        ThreadPoolExecutor(max(1, readers), thread_name_prefix="read") as read_pool,
        ThreadPoolExecutor(max(1, writers), thread_name_prefix="write") as write_pool,
        tqdm(total=len(items), desc=desc, disable=not progress) as bar,
    ):
        ahead: deque[Future] = deque()
        behind: deque[Future] = deque()
        upcoming: Iterable[Item] = iter(items)

        def fill() -> None:
            for item in upcoming:
                ahead.append(read_pool.submit(read, item))
                if len(ahead) >= depth:
                    return

        def drain(keep: int) -> None:
            t0 = time.perf_counter()
            while len(behind) > keep:
                results.append(behind.popleft().result())
                bar.update()
            spent["write_wait"] += time.perf_counter() - t0

        try:
            fill()
            for item in items:
                t0 = time.perf_counter()
                data = ahead.popleft().result()
                t1 = time.perf_counter()
                fill()
                pending = infer(item, data)
                spent["read_wait"] += t1 - t0
                spent["infer"] += time.perf_counter() - t1
                behind.append(write_pool.submit(write, item, data, pending))
                drain(depth)
            drain(0)
        except BaseException:
            for future in (*ahead, *behind):
                future.cancel()
            raise
    if stats is not None:
        stats.update(spent, wall=time.perf_counter() - start)
    return results
