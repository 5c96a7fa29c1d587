"""The command line interface, run as a user would."""

import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run(*args):
    return subprocess.run(
        [str(BIN / "platefocus"), *args], capture_output=True, text=True, timeout=300
    )


def test_synth_then_ingest(tmp_path):
    out = run(
        "synth",
        "--output",
        str(tmp_path / "p"),
        "--name",
        "cli",
        "--overrides",
        '{"rows": 1, "columns": 1, "sites": 1, "planes": 3, '
        '"best_plane": 1, "height": 64, "width": 64}',
    )
    assert out.returncode == 0, out.stderr
    out = run(
        "ingest",
        "--layout",
        "bbbc006",
        "--input",
        str(tmp_path / "p" / "images"),
        "--output",
        str(tmp_path / "cli.ome.zarr"),
        "--pixel-size-um",
        "0.65",
        "--z-step-um",
        "2",
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "cli.ome.zarr" / "zarr.json").exists()
    assert (tmp_path / "cli.manifest.parquet").exists()


def test_bad_input_one_line_error(tmp_path):
    out = run(
        "ingest",
        "--layout",
        "bbbc006",
        "--input",
        str(tmp_path),
        "--output",
        str(tmp_path / "x.ome.zarr"),
        "--pixel-size-um",
        "0.65",
        "--z-step-um",
        "2",
    )
    assert out.returncode == 1
    assert f"platefocus: error: {tmp_path}: no image files" in out.stderr
    assert "Traceback" not in out.stderr


def test_restore_with_a_bad_checkpoint(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    plate = tmp_path / "p"
    assert (
        run(
            "synth",
            "--output",
            str(plate),
            "--overrides",
            '{"rows": 1, "columns": 1, "sites": 1, "planes": 3, "best_plane": 1, '
            '"height": 64, "width": 64}',
        ).returncode
        == 0
    )
    assert (
        run(
            "ingest",
            "--layout",
            "bbbc006",
            "--input",
            str(plate / "images"),
            "--output",
            str(tmp_path / "p.ome.zarr"),
            "--pixel-size-um",
            "0.65",
            "--z-step-um",
            "2",
        ).returncode
        == 0
    )
    out = run(
        "restore",
        "--checkpoint",
        str(bad),
        "--input",
        str(tmp_path / "p.ome.zarr"),
        "--output",
        str(tmp_path / "r.ome.zarr"),
    )
    assert out.returncode == 1
    assert f"{bad}: cannot read checkpoint" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "r.ome.zarr").exists()


def test_inspect_the_real_bbbc006_folder(realdata, tmp_path):
    out = run(
        "inspect",
        "--layout",
        "bbbc006",
        "--input",
        str(realdata / "bbbc006"),
        "--output",
        str(tmp_path / "inspect"),
        "--pixel-size-um",
        "0.65",
    )
    assert out.returncode == 0, out.stderr
    assert "compression LZW" in out.stdout
    assert "mcf-z-stacks-03212011" in out.stdout and "520x696" in out.stdout
    assert (tmp_path / "inspect" / "plate_map.png").stat().st_size > 1000
    fields = (tmp_path / "inspect" / "fields.tsv").read_text().splitlines()
    assert len(fields) == 1 + len(list((realdata / "bbbc006").rglob("*.tif")))


@pytest.mark.parametrize(
    "tiling, message",
    [
        (("--tile", "64", "--overlap", "64"), "overlap must be >= 0 and < tile"),
        (("--tile", "-5"), "tile must be >= 8 pixels, got -5"),
    ],
)
def test_restore_rejects_bad_tiling(tmp_path, tiling, message):
    out = run(
        "restore",
        "--checkpoint",
        str(tmp_path / "x.pt"),
        "--input",
        str(tmp_path / "p.ome.zarr"),
        "--output",
        str(tmp_path / "r.ome.zarr"),
        *tiling,
    )
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert message in out.stderr, out.stderr


def test_ingest_outputs_are_one_set(tmp_path, monkeypatch):
    """A full disk after the plate is in place used to leave the plate and an empty QC
    table behind (exit 1, no manifest): now nothing of the set is left."""
    import errno

    import platefocus.pipeline.ingest as pipeline_ingest
    from platefocus.io.discover import DiscoveryConfig
    from platefocus.io.layouts import BBBC006_PATTERN
    from platefocus.io.omezarr import Acquisition
    from platefocus.synth import generate_plate, preset

    plate = generate_plate(
        preset("demo", rows=1, columns=1, sites=1, planes=3, best_plane=1, height=48, width=48),
        tmp_path / "p",
        progress=False,
    )
    written = []

    def full_disk(table, path):
        written.append(path)
        if str(path).endswith(".parquet"):
            raise OSError(errno.ENOSPC, "No space left on device")
        pipeline_ingest.write_table.__wrapped__(table, path)

    full_disk.__wrapped__ = pipeline_ingest.write_table
    monkeypatch.setattr(pipeline_ingest, "write_table", full_disk)
    out = tmp_path / "x.ome.zarr"
    try:
        pipeline_ingest.ingest_folder(
            DiscoveryConfig(plate / "images", BBBC006_PATTERN),
            Acquisition(0.65, 2.0),
            out,
            tmp_path / "x.manifest.parquet",
            tmp_path / "x.ingest_qc.tsv",
        )
    except OSError:
        pass
    else:
        raise AssertionError("the full disk was not reported")
    assert written  # the tables were attempted after the plate was in place
    assert not out.exists()
    assert not (tmp_path / "x.ingest_qc.tsv").exists()
    assert not (tmp_path / "x.manifest.parquet").exists()


def test_every_argument_has_help_and_one_output_flag():
    """Help texts on every argument of every command; outputs are always --output."""
    from platefocus.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name, command in commands.items():
        for action in command._actions:
            if action.dest == "help":
                continue
            assert action.help, f"platefocus {name} {action.option_strings}: no help text"
            assert "--out" not in action.option_strings, name
    assert "never from a copy" not in parser.format_help()  # no developer note


def test_restore_offsets_need_the_best_planes(tmp_path):
    out = run(
        "restore",
        "--checkpoint",
        str(tmp_path / "c.pt"),
        "--input",
        str(tmp_path / "p.ome.zarr"),
        "--output",
        str(tmp_path / "r.ome.zarr"),
        "--offsets",
        "-2",
        "2",
    )
    assert out.returncode == 1
    assert "--offsets: needs --best" in out.stderr and "Traceback" not in out.stderr
