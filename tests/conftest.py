"""Shared fixtures: a tiny synthetic plate, generated once per test session."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from platefocus.synth import generate_plate, preset

REPO = Path(__file__).resolve().parents[1]
BBBC006_PATTERN = (
    r"_z_(?P<z>\d+)/(?P<plate>[^/]+)_(?P<well>[A-Pa-p]\d{2})_s(?P<site>\d+)"
    r"_w(?P<channel>\d)[^/]*\.tiff?$"
)


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


def plane_files(plate_dir: Path) -> list[Path]:
    return sorted((plate_dir / "images").rglob("*.tif"))


def z_of(path: Path) -> int:
    return int(re.search(r"_z_(\d+)", str(path)).group(1))
