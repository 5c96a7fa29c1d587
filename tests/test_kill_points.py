"""Kills by PID at fixed points of ingest (:mod:`platefocus.kill_points`): what is left
is never half a plate at the final path, and the rerun ends in the plate an unbroken run
makes from the same inputs, byte for byte."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tifffile
from conftest import cli_ingest, killed_at, tree_digest

from platefocus.io.partial import aside_path, partial_path
from platefocus.kill_points import reached

BIN = Path(sys.executable).parent
# One thread: the kill point is reached by the only field writer.
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def _ingest(images: Path, out: Path) -> list[str]:
    return cli_ingest(images, out, "--threads", "1")


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def _edit_one_file(images: Path) -> Path:
    edited = sorted(images.rglob("*.tif"))[-1]
    tifffile.imwrite(edited, tifffile.imread(edited) // 2 + 7)
    return edited


@pytest.fixture
def images(tiny_plate, tmp_path) -> Path:
    root = tmp_path / "images"
    shutil.copytree(tiny_plate / "images", root)
    return root


def _reference(images: Path, tmp_path: Path, name: str = "ref") -> dict:
    """The plate an unbroken ingest makes of ``images`` now."""
    ref = tmp_path / name / "p.ome.zarr"
    _run(_ingest(images, ref))
    return tree_digest(ref)


def test_not_paused_without_the_variable(monkeypatch):
    monkeypatch.delenv("PLATEFOCUS_PAUSE_AT", raising=False)
    reached("field-done")  # returns at once
    monkeypatch.setenv("PLATEFOCUS_PAUSE_AT", "publish-in")
    reached("field-done")  # another point: returns at once


@pytest.mark.parametrize("edit", [False, True], ids=["same-inputs", "input-edited"])
def test_killed_after_a_field_or_before_publishing(images, tmp_path, edit):
    """Killed once a field is done, and (second kill) with every field done but nothing
    published; with an input file edited before the rerun, its field is read again."""
    out = tmp_path / "run" / "p.ome.zarr"
    killed_at(_ingest(images, out), "field-done", tmp_path / "pause", ENV)
    assert not out.exists() and partial_path(out).exists()
    killed_at(_ingest(images, out), "before-publish", tmp_path / "pause", ENV)
    assert not out.exists()
    if edit:
        _edit_one_file(images)
    _run(_ingest(images, out))
    assert not partial_path(out).exists()
    assert tree_digest(out) == _reference(images, tmp_path)


def test_killed_while_replacing_a_finished_plate(images, tmp_path):
    """A rerun after an input edit replaces the published plate; killed between the two
    renames the old plate waits whole beside it, killed after them the new one is whole
    at the final path; the next run ends in the new plate, nothing left aside."""
    out = tmp_path / "run" / "p.ome.zarr"
    _run(_ingest(images, out))
    old = tree_digest(out)
    edited = _edit_one_file(images)
    killed_at(_ingest(images, out), "publish-aside", tmp_path / "pause", ENV)
    assert not out.exists()  # never half a plate at the final path
    assert tree_digest(aside_path(out)) == old  # the old plate, whole
    _run(_ingest(images, out))
    new = _reference(images, tmp_path)
    assert tree_digest(out) == new and not aside_path(out).exists()

    tifffile.imwrite(edited, tifffile.imread(edited) + 1)
    killed_at(_ingest(images, out), "publish-in", tmp_path / "pause", ENV)
    left = {k: v for k, v in tree_digest(out).items() if not k.startswith(".done/")}
    assert left == _reference(images, tmp_path, "ref2")  # the new plate whole at the final path
    _run(_ingest(images, out))
    assert tree_digest(out) == left and not aside_path(out).exists()


def test_two_ingests_into_one_output_started_together(images, tmp_path):
    """Two writers at once: each either writes the whole plate or is refused naming the
    other's PID; the output is the plate one run makes, never a mix or nothing."""
    out = tmp_path / "run" / "p.ome.zarr"
    procs = [
        subprocess.Popen(_ingest(images, out), env=ENV, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    ends = [(proc.wait(timeout=300), proc.stderr.read()) for proc in procs]
    assert any(rc == 0 for rc, _ in ends), ends
    for rc, err in ends:
        assert rc == 0 or ("is writing it" in err and "Traceback" not in err), err
    assert tree_digest(out) == _reference(images, tmp_path)
