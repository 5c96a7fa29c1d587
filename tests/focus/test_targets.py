"""Target selection: objects in focus at a tile's best plane decide whether it is kept."""

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_DIAMETER_PX, tiny_spec

from platefocus.focus.metrics import score_stack, tile_grid
from platefocus.focus.targets import TargetConfig, object_focus_curves, select_field_targets
from platefocus.segment.nuclei import SegmentationConfig
from platefocus.synth import generate_plate
from platefocus.synth.objects import NucleusPopulation


def stack_of(plate):
    import tifffile

    files = sorted((plate / "images").rglob("*_a01_s1_*.tif"), key=lambda f: f.parent.name)
    return np.stack([tifffile.imread(f) for f in files])


def verdict(stack, config=None):
    config = config or TargetConfig()
    s = score_stack(stack, (2, 2))
    tiles = tile_grid(*stack.shape[1:], (2, 2))
    best = pd.DataFrame(
        dict(region=s["region"][1:], plane=np.argmax(s["tenengrad"][:, 1:], axis=0), qc_flags="")
    )
    return select_field_targets(
        stack, tiles, best, SegmentationConfig(diameter_px=DEMO_DIAMETER_PX), config
    )


@pytest.fixture(scope="module")
def flat_and_scattered(tmp_path_factory):
    """Two fields: nuclei on one flat focal plane, and nuclei scattered over +-6 um."""
    out = tmp_path_factory.mktemp("targets")
    common = dict(
        columns=1,
        planes=11,
        best_plane=5.0,
        height=256,
        width=256,
        field_tilt_um=0.0,
        field_curvature_um=0.0,
        plate_tilt_um=0.0,
        well_jitter_um=0.0,
    )
    flat = generate_plate(
        tiny_spec(name="flat", nuclei=NucleusPopulation(height_jitter_um=0.1), **common),
        out / "flat",
        progress=False,
    )
    scattered = generate_plate(
        tiny_spec(name="scat", nuclei=NucleusPopulation(height_jitter_um=6.0), **common),
        out / "scat",
        progress=False,
    )
    return stack_of(flat), stack_of(scattered)


def test_flat_field_tiles_are_kept(flat_and_scattered):
    v = verdict(flat_and_scattered[0])
    assert v["keep"].all(), v.to_string()
    assert (v["fraction_in_focus"] == 1.0).all()
    assert set(v["reason"]) == {"kept"}


def test_scattered_field_tiles_are_dropped_with_reason(flat_and_scattered):
    v = verdict(flat_and_scattered[1])
    assert v["fraction_in_focus"].mean() < 0.6, v.to_string()
    dropped = v[v["reason"].str.contains("fraction in focus")]
    assert len(dropped) >= 3, v.to_string()


def test_too_few_objects_and_flags(flat_and_scattered):
    stack = flat_and_scattered[0]
    v = verdict(stack, TargetConfig(min_objects=100))
    assert (~v["keep"]).all() and v["reason"].str.startswith("too few objects").all()
    s = score_stack(stack, (2, 2))
    best = pd.DataFrame(
        dict(
            region=s["region"][1:],
            plane=np.argmax(s["tenengrad"][:, 1:], 0),
            qc_flags=["peak_at_end", "", "saturated;empty", ""],
        )
    )
    v = select_field_targets(
        stack,
        tile_grid(256, 256, (2, 2)),
        best,
        SegmentationConfig(diameter_px=DEMO_DIAMETER_PX),
        TargetConfig(min_objects=0),
    )
    assert v["reason"].tolist()[0] == "flag peak_at_end"
    assert v["reason"].tolist()[2] == "flag saturated; flag empty"


def test_object_focus_curves_sum_energy_over_grown_masks():
    labels = np.zeros((10, 10), int)
    labels[2:4, 2:4] = 1
    labels[7, 7] = 2
    energy = np.ones((3, 10, 10))
    energy[1] *= 2
    curves = object_focus_curves(energy, labels, grow_px=1)
    assert curves.shape == (3, 2)
    # object 1: 4 px grown by one pixel each side = 16 px; object 2: 1 px -> 9 px
    np.testing.assert_allclose(curves[0], [16, 9])
    np.testing.assert_allclose(curves[1], [32, 18])


def test_stack_focus_curves_equal_the_whole_stack_energy_exactly():
    """Plane by plane, for several label images at once: the same numbers, bit for bit, as
    the curves of the whole stack's gradient energy (targets' outputs stay unchanged)."""
    from platefocus.focus.metrics import gradient_energy
    from platefocus.focus.targets import stack_focus_curves

    rng = np.random.default_rng(3)
    stack = rng.integers(0, 4000, (5, 40, 50)).astype(np.uint16)
    first = np.zeros((40, 50), int)
    first[5:12, 5:15], first[20:30, 30:45] = 1, 2
    second = np.zeros((40, 50), int)
    second[30:38, 2:9] = 1
    empty = np.zeros((40, 50), int)
    curves = stack_focus_curves(stack, [first, second, empty], grow_px=2)
    energy = gradient_energy(stack)
    for labels, got in zip([first, second, empty], curves, strict=True):
        expected = object_focus_curves(energy, labels, grow_px=2)
        assert got.shape == expected.shape == (5, labels.max())
        assert np.array_equal(got, expected)
    assert curves[0][:, 0].min() > 0
