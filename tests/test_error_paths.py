"""Every user-facing error path known: a one-line message naming the file or setting, exit
status 1, no traceback. The command line runs in this process (the same ``run_step`` the
workflow's adapters use); an unexpected exception would fail the test with its traceback.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from platefocus.cli import main


@pytest.fixture(scope="module")
def cli_plate(tmp_path_factory):
    """A tiny synthetic plate, ingested: ``(folder, images, plate.ome.zarr)``."""
    root = tmp_path_factory.mktemp("errors")
    overrides = json.dumps(
        {"rows": 1, "columns": 1, "sites": 1, "planes": 3, "best_plane": 1}
        | {"height": 64, "width": 64}
    )
    main(["synth", "--output", str(root / "p"), "--overrides", overrides])
    plate = root / "p.ome.zarr"
    main(
        ["ingest", "--layout", "bbbc006", "--input", str(root / "p" / "images"),
         "--output", str(plate), "--pixel-size-um", "0.65", "--z-step-um", "2"]
    )  # fmt: skip
    return root, root / "p" / "images", plate


def _fails_with(capsys, argv: list[str], expected: str) -> str:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 1, err
    lines = [line for line in err.splitlines() if line.startswith("platefocus: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err and expected in lines[0], err
    return lines[0]


def _ingest(folder, out, *extra: str) -> list[str]:
    return ["ingest", "--input", str(folder), "--output", str(out),
            "--pixel-size-um", "0.65", "--z-step-um", "2", *extra]  # fmt: skip


def test_ingest_error_paths(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "x.ome.zarr"
    _fails_with(capsys, _ingest(empty, out, "--layout", "bbbc006"), f"{empty}: no image files")
    _fails_with(capsys, _ingest(tmp_path / "nowhere", out, "--layout", "bbbc006"), "does not exist")
    _fails_with(capsys, _ingest(empty, out), "input.pattern: required with input.layout: custom")
    _fails_with(capsys, _ingest(empty, out, "--pattern", "(?P<well"), "not a valid regular")
    _fails_with(capsys, _ingest(empty, out, "--pattern", "(?P<site>\\d)"), "lacks the named")
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "A01_s1.tif").write_bytes(b"not a tiff at all")
    pattern = ["--pattern", r"(?P<well>[A-P]\d{2})_s(?P<site>\d)"]
    _fails_with(capsys, _ingest(junk, out, *pattern), "A01_s1.tif")
    two = tmp_path / "two"
    two.mkdir()
    tifffile.imwrite(two / "A01_s1.tif", np.zeros((32, 32), np.uint16))
    tifffile.imwrite(two / "A01_s1.tif", np.ones((32, 32), np.uint16), append=True)
    _fails_with(capsys, _ingest(two, out, *pattern), "holds 2 image series")
    assert not out.exists()


def test_ingest_error_paths_of_files_of_scenes(tmp_path, capsys):
    pytest.importorskip("bioio_ome_tiff")
    folder = tmp_path / "scenes"
    folder.mkdir()
    with tifffile.TiffWriter(folder / "A01_s1.ome.tif", ome=True) as tif:
        for name in ("A01", "Position 2"):
            tif.write(np.zeros((2, 16, 16), np.uint16), metadata={"axes": "ZYX", "Name": name})
    out = tmp_path / "x.ome.zarr"
    pattern = ["--pattern", r"(?P<well>[A-P]\d{2})_s(?P<site>\d)"]
    _fails_with(capsys, _ingest(folder, out, *pattern), "holds 2 scenes")
    _fails_with(capsys, _ingest(folder, out, "--layout", "scenes"), "names no well")


def test_restore_and_export_error_paths(cli_plate, tmp_path, capsys):
    import torch

    _, _, plate = cli_plate
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    out = tmp_path / "r.ome.zarr"

    def restore(checkpoint, *extra, plate_in=plate):
        return ["restore", "--checkpoint", str(checkpoint), "--input", str(plate_in),
                "--output", str(out), *extra]  # fmt: skip

    _fails_with(capsys, restore(junk), f"{junk}: cannot read checkpoint")
    _fails_with(capsys, restore(tmp_path / "none.pt"), "none.pt: no such model file")
    _fails_with(capsys, restore(junk, plate_in=tmp_path), "not a valid OME-Zarr plate")
    _fails_with(capsys, restore(junk, "--offsets", "2"), "--offsets: needs --best")
    _fails_with(capsys, restore(junk, "--tile", "8"), "--tile")
    if not torch.cuda.is_available():
        _fails_with(capsys, restore(junk, "--device", "cuda"), "is 'cuda' but no CUDA device")
    export = ["export-model", "--checkpoint", str(junk), "--input", str(plate),
              "--output", str(tmp_path / "m.zip")]  # fmt: skip
    _fails_with(capsys, export, f"{junk}: cannot read checkpoint")
    assert not out.exists() and not (tmp_path / "m.zip").exists()


def test_other_command_error_paths(tmp_path, capsys):
    _fails_with(
        capsys, ["inspect", "--input", str(tmp_path / "nowhere"), "--layout", "bbbc006"], "nowhere"
    )
    _fails_with(
        capsys,
        ["synth", "--output", str(tmp_path / "s"), "--overrides", "{rows: 1"],
        "--overrides",
    )
    _fails_with(
        capsys,
        ["synth", "--output", str(tmp_path / "s"), "--overrides", '{"colour": 1}'],
        "colour",
    )
    _fails_with(
        capsys,
        ["cut-stack", "--stack", str(tmp_path / "none.tif"), "--output", str(tmp_path / "c")],
        "none.tif",
    )
