"""One writer per output, and publishing that never leaves half a plate at the final path."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import cli_ingest

from platefocus.errors import InputError
from platefocus.io import partial as partial_module
from platefocus.io.partial import aside_path, publish
from platefocus.io.writer_lock import lock_path, writer_lock

BIN = Path(sys.executable).parent
HOLD = """
import sys, time
from platefocus.io.writer_lock import writer_lock
with writer_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def _holder(out: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_writer_is_refused_with_the_holders_pid(tmp_path):
    out = tmp_path / "r.ome.zarr"
    proc = _holder(out)
    try:
        with pytest.raises(InputError, match=f"PID {proc.pid}"), writer_lock(out):
            pass
    finally:
        proc.kill()
        proc.wait()
    with writer_lock(out):  # a killed holder leaves no lock behind
        assert lock_path(out).read_text().strip() == str(os.getpid())
        with writer_lock(out):  # re-entrant within one process
            pass


def _tiny_images(root: Path) -> None:
    out = subprocess.run(
        [
            str(BIN / "platefocus"),
            "synth",
            "--output",
            str(root),
            "--name",
            "lk",
            "--overrides",
            '{"rows": 1, "columns": 1, "sites": 1, "planes": 3, "best_plane": 1, '
            '"height": 64, "width": 64}',
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr


def test_cli_ingest_into_an_output_being_written_exits_with_one_line(tmp_path):
    _tiny_images(tmp_path / "p")
    out = tmp_path / "lk.ome.zarr"
    proc = _holder(out)
    try:
        run = subprocess.run(
            cli_ingest(tmp_path / "p" / "images", out),
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        proc.kill()
        proc.wait()
    assert run.returncode != 0
    assert f"PID {proc.pid}" in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert not out.exists()


def _plate(folder: Path, text: str) -> Path:
    (folder / "A" / "1").mkdir(parents=True)
    (folder / "A" / "1" / "data").write_text(text)
    (folder / "zarr.json").write_text(text)
    (folder / ".done").mkdir()
    return folder


def test_a_kill_between_the_renames_leaves_the_old_plate_whole(tmp_path, monkeypatch):
    out = tmp_path / "plate.ome.zarr"
    _plate(tmp_path / "first", "old")
    publish(tmp_path / "first", out)
    assert (out / "zarr.json").read_text() == "old" and not (out / ".done").exists()
    new = _plate(tmp_path / ".plate.ome.zarr.partial", "new")
    calls, rename = [], os.replace

    def killed_on_second(src, dst):
        calls.append(src)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process dies between the two renames
        rename(src, dst)

    monkeypatch.setattr(partial_module.os, "replace", killed_on_second)
    with pytest.raises(KeyboardInterrupt):
        publish(new, out)
    monkeypatch.undo()
    assert not out.exists()  # never half a plate at the final path
    assert (aside_path(out) / "A" / "1" / "data").read_text() == "old"  # the old one whole
    assert (new / "A" / "1" / "data").read_text() == "new"  # and the new one whole
    publish(new, out)  # the rerun's publish
    assert (out / "zarr.json").read_text() == "new" and not aside_path(out).exists()


def test_publish_waits_for_no_one_but_refuses_a_held_output(tmp_path):
    out = tmp_path / "plate.ome.zarr"
    proc = _holder(out)
    try:
        with pytest.raises(InputError, match="is writing it"):
            publish(_plate(tmp_path / "p", "x"), out)
    finally:
        proc.kill()
        proc.wait()
    time.sleep(0.05)
    publish(tmp_path / "p", out)
    assert (out / "zarr.json").read_text() == "x"
