"""Peak resident memory of restoring a plate as it grows from 1x to 8x the fields.

Each size runs in its own process (``ru_maxrss`` of the child), restoring two planes of
every 256 x 256 field with the default Restormer architecture through ``restore_plate``.
Fields are processed one Dask task at a time per worker, so memory should stay flat.

    python benchmarks/bench_restore_memory.py [--base-wells 2]

Last line: ``peak_mem_8x_over_1x=<z>``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys, resource, torch
from pathlib import Path
sys.path.insert(0, {bench!r})
from _plates import ingested_plate
from platefocus.io.omezarr import Acquisition
from platefocus.models import build_model
from platefocus.restore.settings import RestoreConfig
from platefocus.restore import PlaneSelection, restore_plate
folder = Path({folder!r})
plate, manifest = ingested_plate(folder, "mem{wells}", {wells})
model = build_model("restormer", levels=3, width=16, norm="layer")
ckpt = folder / "m.pt"
torch.save({{"model": "restormer", "model_kwargs": {{"levels": 3, "width": 16, "norm": "layer"}},
            "in_channels": 1, "model_state": model.state_dict(),
            "dataset": {{"percentiles": [1.0, 99.8]}}}}, ckpt)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
restore_plate(plate, manifest, ckpt, folder / "out.ome.zarr",
              PlaneSelection(mode="list", z=(1, 3)), RestoreConfig(tile=160, overlap=32),
              Acquisition(0.65, 2.0), device="cpu", workers=2, progress=False)
print(json.dumps({{"fields": len(manifest.groupby(["well", "site"])),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rss_before_restore_mb": before / 1024}}))
"""


def measure(wells: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        code = CHILD.format(bench=str(Path(__file__).parent), folder=tmp, wells=wells)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-wells", type=int, default=2)
    args = parser.parse_args()
    small = measure(args.base_wells)
    large = measure(8 * args.base_wells)
    print("peak resident memory while restoring (each size in its own process)")
    print(f"{'plate':<8}{'fields':>8}{'peak RSS MB':>14}{'RSS before restore MB':>24}")
    for label, r in (("1x", small), ("8x", large)):
        print(f"{label:<8}{r['fields']:>8}{r['rss_mb']:>14.0f}{r['rss_before_restore_mb']:>24.0f}")
    print(f"peak_mem_8x_over_1x={large['rss_mb'] / small['rss_mb']:.3f}")


if __name__ == "__main__":
    main()
