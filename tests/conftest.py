"""Shared fixtures: a tiny synthetic plate, generated once per test session."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from platefocus.io.layouts import BBBC006_PATTERN
from platefocus.synth import generate_plate, preset

REPO = Path(__file__).resolve().parents[1]
#: The demo config's segmentation range (config/config.yaml: its nuclei are about 30 px),
#: so that fixtures on the demo geometry do not depend on the default (auto).
DEMO_DIAMETER_PX = (15, 60)


def _demo_segmentation():
    from platefocus.segment.nuclei import SegmentationConfig

    return SegmentationConfig(diameter_px=DEMO_DIAMETER_PX)


def tiny_spec(**overrides):
    """A plate small enough for unit tests: 2 wells, 1 site, 9 planes of 96 x 96."""
    values = dict(
        name="tiny",
        rows=1,
        columns=2,
        sites=1,
        planes=9,
        best_plane=4.0,
        height=96,
        width=96,
        seed=3,
    )
    values.update(overrides)
    return preset("demo", **values)


@pytest.fixture(scope="session")
def tiny_plate(tmp_path_factory) -> Path:
    """Folder with ``images/`` and ``truth/`` of the tiny plate (read-only for tests)."""
    out = tmp_path_factory.mktemp("plates") / "tiny"
    return generate_plate(tiny_spec(), out, progress=False)


def tree_digest(root: Path) -> dict:
    """Every file under ``root`` (relative path) and its SHA-256: two trees byte-identical."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def killed_at(cmd: list[str], point: str, pause_dir: Path, env: dict | None = None) -> int:
    """Run ``cmd``, wait until it reaches the kill point ``point``
    (:mod:`platefocus.kill_points`), SIGKILL it by PID; return the PID."""
    pause_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **(env or os.environ),
        "PLATEFOCUS_PAUSE_AT": point,
        "PLATEFOCUS_PAUSE_DIR": str(pause_dir),
    }
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    marker = pause_dir / f"{point}.{proc.pid}"
    deadline = time.time() + 300
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"{cmd[1]} ended before {point}: {proc.stderr.read()[-2000:]!r}")
        assert time.time() < deadline, f"{point} not reached in 300 s"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    marker.unlink()
    return proc.pid


def cli_ingest(images: Path, out: Path, *extra: str) -> list[str]:
    """The command line of ``platefocus ingest`` of a BBBC006-layout folder into ``out``."""
    return [
        str(Path(sys.executable).parent / "platefocus"), "ingest", "--layout", "bbbc006",
        "--input", str(images), "--output", str(out),
        "--pixel-size-um", "0.65", "--z-step-um", "2", *extra,
    ]  # fmt: skip


def plane_files(plate_dir: Path) -> list[Path]:
    return sorted((plate_dir / "images").rglob("*.tif"))


def z_of(path: Path) -> int:
    return int(re.search(r"_z_(\d+)", str(path)).group(1))


def generate_and_ingest(out: Path, spec, name: str = "p.ome.zarr"):
    """Generate a synthetic plate under ``out`` and ingest it: (plate folder, zarr, manifest)."""
    from platefocus.io.discover import DiscoveryConfig, discover_planes
    from platefocus.io.ingest import ingest_plate
    from platefocus.io.omezarr import Acquisition

    plate = generate_plate(spec, out / "plate", progress=False)
    manifest = discover_planes(DiscoveryConfig(plate / "images", BBBC006_PATTERN))
    result = ingest_plate(manifest, out / name, Acquisition(0.65, 2.0), progress=False)
    return plate, out / name, result.manifest


@pytest.fixture(scope="session")
def pairs_dataset(tmp_path_factory):
    """A small training dataset cut from a 6-well plate: (zarr path, pair table)."""
    from platefocus.dataset.pairs import DatasetConfig, build_dataset
    from platefocus.focus.bestplane import BestPlaneConfig, best_planes
    from platefocus.focus.plate import score_plate, select_plate_targets
    from platefocus.focus.targets import TargetConfig

    out = tmp_path_factory.mktemp("pairs")
    spec = tiny_spec(
        name="pairs",
        rows=2,
        columns=3,
        sites=2,
        planes=11,
        best_plane=5.0,
        height=128,
        width=128,
        seed=5,
    )
    _, _, manifest = generate_and_ingest(out, spec)
    scores = score_plate(out / "p.ome.zarr", manifest, progress=False)
    best = (
        scores[["plate", "well", "row", "column", "site", "field"]]
        .drop_duplicates()
        .merge(best_planes(scores, BestPlaneConfig()), on=["plate", "well", "site"])
    )
    targets = select_plate_targets(
        out / "p.ome.zarr",
        manifest,
        best,
        (2, 2),
        1,
        _demo_segmentation(),
        TargetConfig(min_objects=1),
        progress=False,
    )
    config = DatasetConfig(
        # 6-8 um from focus: at NA 0.45 (the synthetic optics, matched to BBBC006) closer
        # planes are blurred too little for a few training steps to beat them
        offsets=(-4, -3, 3, 4),
        patch_size=32,
        stride=32,
        split_fractions=(0.5, 0.17, 0.33),
        seed=1,
    )
    table = build_dataset(
        out / "p.ome.zarr", manifest, targets, config, out / "pairs.zarr", progress=False
    )
    return (
        out / "pairs.zarr",
        table,
        dict(
            plate=out / "p.ome.zarr", manifest=manifest, targets=targets, config=config, best=best
        ),
    )


@pytest.fixture(scope="session")
def tiny_checkpoints(pairs_dataset, tmp_path_factory):
    """Briefly trained Restormers (InstanceNorm as MONAI, and per-pixel LayerNorm)."""
    import shutil

    import zarr

    from platefocus.train.loop import TrainConfig, train

    path, table, _ = pairs_dataset
    info = dict(zarr.open_group(str(path), mode="r").attrs["platefocus"])
    out = {}
    for norm in ("instance", "layer"):
        work = tmp_path_factory.mktemp(f"ckpt_{norm}")
        config = TrainConfig(
            model="restormer",
            model_kwargs={"levels": 2, "width": 8, "norm": norm},
            epochs=3,
            max_steps_per_epoch=10,
            lr=3e-3,
            threads=1,
        )
        train(path, table, config, work, dataset_info=info, progress=False)
        shutil.copyfile(work / "best.pt", work / "checkpoint.pt")
        out[norm] = work / "checkpoint.pt"
    return out


@pytest.fixture(scope="session")
def restored(pairs_dataset, tiny_checkpoints, tmp_path_factory):
    """The pairs plate restored at dz = +-3 with the LayerNorm checkpoint: (path, result)."""
    from platefocus.io.omezarr import Acquisition
    from platefocus.restore import PlaneSelection, restore_plate
    from platefocus.restore.settings import RestoreConfig

    _, _, ctx = pairs_dataset
    out = tmp_path_factory.mktemp("restored") / "r.ome.zarr"
    result = restore_plate(
        ctx["plate"],
        ctx["manifest"],
        tiny_checkpoints["layer"],
        out,
        PlaneSelection(offsets=(-3, 3)),
        RestoreConfig(tile=64, overlap=16),
        Acquisition(0.65, 2.0),
        best=ctx["best"],
        progress=False,
    )
    return out, result


BIN = Path(sys.executable).parent
# The tiny integration config is merged over the default one.
TINY = ("--configfile", str(REPO / "config" / "config.yaml"), str(REPO / ".test" / "config.yaml"))


def snakemake(workdir: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    cmd = [
        str(BIN / "snakemake"),
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The whole workflow on the tiny integration config, run once per session."""
    work = tmp_path_factory.mktemp("e2e")
    out = snakemake(work, "--cores", "2", *TINY)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return work


@pytest.fixture(scope="session")
def demo_checkpoint(tmp_path_factory):
    """The demo Restormer exactly as ``make demo`` trains it (default config; about 6
    minutes on 2 CPU cores): the trained model that tests of restored images use."""
    work = tmp_path_factory.mktemp("demo")
    target = "results/demo/models/restormer/checkpoint.pt"
    out = snakemake(
        work,
        "--cores",
        "2",
        "--configfile",
        str(REPO / "config" / "config.yaml"),
        "--",
        target,
        timeout=2400,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return work / target


#: The real images of ../shared/realdata (see its README); never copied into the project.
REALDATA = REPO.parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def realdata() -> Path:
    """``../shared/realdata``: skipped when absent locally, a failure under CI."""
    if not (REALDATA / "README.md").exists():
        if os.environ.get("CI"):
            pytest.fail(f"{REALDATA} is missing: CI must have ../shared beside the clone")
        pytest.skip(f"{REALDATA} is missing")
    return REALDATA
