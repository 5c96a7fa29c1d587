"""A step's errors reach its rule's log: bad input as one line, a bug with its traceback."""

from __future__ import annotations

import pytest

from platefocus.errors import InputError
from platefocus.logs import run_step


def test_a_bug_leaves_its_traceback_in_the_log(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "logs" / "evaluate_model.log"
    with pytest.raises(ZeroDivisionError):
        run_step(lambda: 1 / 0, log)
    text = log.read_text()
    assert "Traceback" in text and "ZeroDivisionError" in text


def test_bad_input_is_one_line_and_exit_1(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def bad():
        raise InputError("plate/A01.tif", "not a TIFF")

    with pytest.raises(SystemExit) as stop:
        run_step(bad, tmp_path / "x.log")
    assert stop.value.code == 1
    assert "platefocus: error: plate/A01.tif: not a TIFF" in capsys.readouterr().err
    assert "Traceback" not in (tmp_path / "x.log").read_text()
