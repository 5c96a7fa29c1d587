"""The inventory of a plate folder: counts, missing planes, sampling against the config."""

from __future__ import annotations

import numpy as np
import tifffile

from platefocus.io.discover import DiscoveryConfig, discover_planes
from platefocus.io.inventory import take_inventory


def _write(root, well: str, planes: range, pixel_size: float) -> None:
    stack = np.zeros((len(planes), 8, 9), np.uint16)
    tifffile.imwrite(
        root / f"p_{well}_s1.ome.tif",
        stack,
        metadata={"axes": "ZYX", "PhysicalSizeX": pixel_size, "PhysicalSizeZ": 1.0},
        compression="zlib",
    )


def test_missing_planes_and_sampling_disagreement(tmp_path):
    _write(tmp_path, "A01", range(5), 0.325)
    _write(tmp_path, "A02", range(5), 0.325)
    _write(tmp_path, "B01", range(3), 0.325)
    pattern = r"p_(?P<well>[A-P]\d{2})_s(?P<site>\d)\.ome\.tif$"
    inventory = take_inventory(
        discover_planes(DiscoveryConfig(tmp_path, pattern)), pixel_size_um=0.65, z_step_um=1.0
    )
    fields = inventory.fields.set_index("well")
    assert fields.loc["A01", "planes"] == 5 and fields.loc["A01", "missing_z"] == ""
    assert fields.loc["B01", "missing_z"] == "3 4"
    assert fields.loc["A01", "compression"] == "ADOBE_DEFLATE"
    assert fields.loc["A01", "pixel_size_um"] == 0.325
    assert any("acquisition.pixel_size_um is 0.65" in w for w in inventory.warnings)
    assert not any("z_step" in w for w in inventory.warnings)
    assert "3 wells x 1 sites x 1 channels x 5 planes" in inventory.summary()
