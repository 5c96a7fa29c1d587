"""Named points where a test kills the process by PID (fault injection).

Integrity promises (a kill at any step leaves the old or the new plate whole; a rerun
resumes byte-identical) are only as good as the kills that test them, and a kill at a
random moment misses the narrow windows (between two renames). With the environment
variable ``PLATEFOCUS_PAUSE_AT=<name>[,<name>...]`` set, :func:`reached` writes
``<name>.<pid>`` into ``PLATEFOCUS_PAUSE_DIR`` (default: the working directory) and
sleeps until the process is killed; the test waits for that file and sends SIGKILL to
the PID. Unset (always, outside tests), :func:`reached` returns at once.

Points: ``field-done`` (a field was marked done), ``before-publish`` (every field done,
the plate not yet renamed in), ``publish-aside`` (the old plate renamed aside, the new
one not yet in), ``publish-in`` (the new plate in, the old one not yet deleted).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

POINTS = ("field-done", "before-publish", "publish-aside", "publish-in")


def reached(point: str) -> None:
    """Pause here for a kill when ``PLATEFOCUS_PAUSE_AT`` names ``point``; else return."""
    wanted = os.environ.get("PLATEFOCUS_PAUSE_AT")
    if not wanted or point not in wanted.split(","):
        return
    folder = Path(os.environ.get("PLATEFOCUS_PAUSE_DIR", "."))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{point}.{os.getpid()}").write_text(point)
    while True:  # until killed; a test that forgets to kill fails on its own timeout
        time.sleep(1)
