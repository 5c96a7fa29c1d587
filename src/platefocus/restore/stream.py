"""Read ahead, infer in one thread, write behind: a three-stage pipeline over fields.

On a GPU the device should never wait for the host. Reader threads read and prepare the
next fields while the calling thread queues the current one on the device, and writer
threads wait for finished results and write them, so that reading, inference and
writing overlap. At most ``depth`` fields are read ahead and at most ``depth`` results
wait to be written, which bounds host and device memory. Results come back in order; the
first error stops the pipeline and is raised.
"""

from __future__ import annotations

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
) -> list:
    """``write(item, read(item), infer(item, read(item)))`` for every item, in order.

    ``read`` runs on ``readers`` threads at most ``depth`` items ahead; ``infer`` runs on
    the calling thread (the one that owns the device); ``write`` runs on ``writers``
    threads, at most ``depth`` pending. Returns the values of ``write``.
    """
    depth = max(1, depth)
    results: list = []
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
            while len(behind) > keep:
                results.append(behind.popleft().result())
                bar.update()

        try:
            fill()
            for item in items:
                data = ahead.popleft().result()
                fill()
                pending = infer(item, data)
                behind.append(write_pool.submit(write, item, data, pending))
                drain(depth)
            drain(0)
        except BaseException:
            for future in (*ahead, *behind):
                future.cancel()
            raise
    return results
