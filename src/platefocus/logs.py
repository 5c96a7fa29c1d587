"""Logging set-up and error reporting for pipeline steps and the command line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from platefocus.errors import InputError

T = TypeVar("T")


def setup_logging(log_file: str | Path | None = None, level: int = logging.INFO) -> None:
    """Log to stderr and, when given, to ``log_file`` (created with its folder)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )


def run_step(step: Callable[[], T], log_file: str | Path | None = None) -> T:
    """Run a pipeline step; bad input ends the process with a one-line message and exit 1.

    Unexpected errors keep their traceback: they are bugs, not user errors.
    """
    import contextlib

    from platefocus.jobs import registered_job

    setup_logging(log_file)
    # A workflow job (it has a log file) registers in its folder while it runs, so that
    # `platefocus unlock` sees it even when its Snakemake process is gone.
    registration = registered_job() if log_file is not None else contextlib.nullcontext()
    try:
        with registration:
            return step()
    except InputError as err:
        logging.getLogger("platefocus").error("bad input: %s", err)
        print(f"platefocus: error: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    except Exception:
        if log_file:  # the rule's log holds the traceback too, not only the job's stderr
            import traceback

            with open(log_file, "a", encoding="utf-8") as log:
                log.write(traceback.format_exc())
        raise


def progress(iterable=None, **kwargs):
    """A tqdm bar; in log files (stderr not a terminal) it updates every 30 s, not per step."""
    from tqdm.auto import tqdm

    kwargs.setdefault("mininterval", 0.1 if sys.stderr.isatty() else 30.0)
    return tqdm(iterable, **kwargs)
