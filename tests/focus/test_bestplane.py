"""Best plane from focus curves: refinement, quality, flags, accuracy on a synthetic plate."""

import numpy as np
import pandas as pd
import pytest
from conftest import generate_and_ingest, tiny_spec

from platefocus.focus.bestplane import BestPlaneConfig, best_planes, curve_quality, refine_peak
from platefocus.focus.plate import score_plate


def test_refine_recovers_a_gaussian_peak():
    z = np.arange(15)
    for centre in (6.0, 6.3, 7.45, 5.8):
        curve = 100 * np.exp(-((z - centre) ** 2) / (2 * 2.0**2)) + 0.0
        k, refined = refine_peak(curve)
        assert k == round(centre)
        assert refined == pytest.approx(centre, abs=1e-9)


def test_refine_at_the_ends_and_flat():
    assert refine_peak([5, 3, 1]) == (0, 0.0)
    assert refine_peak([1, 3, 5]) == (2, 2.0)
    assert refine_peak([2, 2, 2]) == (0, 0.0)


def test_curve_quality():
    z = np.arange(21)
    peak = np.exp(-((z - 10) ** 2) / 8) + 0.01
    prom, n = curve_quality(peak)
    assert prom > 10 and n == 1
    rng = np.random.default_rng(0)
    flat = 1 + 0.01 * rng.standard_normal(21)
    assert curve_quality(flat)[0] < 5
    two = np.exp(-((z - 5) ** 2) / 2) + np.exp(-((z - 15) ** 2) / 2)
    assert curve_quality(two)[1] == 2


def table(curve, **extra):
    n = len(curve)
    return pd.DataFrame(
        dict(
            plate="p",
            well="A01",
            site=1,
            channel=1,
            region="field",
            z=np.arange(n) + 3,
            tenengrad=curve,
            mean=extra.get("mean", np.full(n, 100.0)),
            std=extra.get("std", np.full(n, 50.0)),
            saturated_fraction=extra.get("sat", np.zeros(n)),
        )
    )


def test_flags():
    cfg = BestPlaneConfig()
    z = np.arange(11)
    good = best_planes(table(np.exp(-((z - 5) ** 2) / 4) + 0.01), cfg).iloc[0]
    assert good["qc_flags"] == "" and good["best_z"] == 8  # z starts at 3
    end = best_planes(table(np.exp(-((z - 10) ** 2) / 4) + 0.01), cfg).iloc[0]
    assert "peak_at_end" in end["qc_flags"]
    flat = best_planes(table(1 + 0.001 * np.sin(z)), cfg).iloc[0]
    assert "no_clear_peak" in flat["qc_flags"]
    sat = best_planes(table(np.exp(-((z - 5) ** 2) / 4), sat=np.full(11, 0.01)), cfg).iloc[0]
    assert "saturated" in sat["qc_flags"]
    empty = best_planes(table(np.exp(-((z - 5) ** 2) / 4), std=np.full(11, 2.0)), cfg).iloc[0]
    assert "empty" in empty["qc_flags"]
    one = best_planes(table(np.array([4.0])), cfg).iloc[0]
    assert one["qc_flags"] == "single_plane" and one["best_z"] == 3


def test_unknown_metric():
    with pytest.raises(ValueError, match="focus metric"):
        BestPlaneConfig(metric="sharpness")


@pytest.fixture(scope="module")
def accuracy_plate(tmp_path_factory):
    """8 fields of 192 x 192 with 11 planes: enough tiles (and nuclei of 30 px in each) for an
    accuracy bound."""
    out = tmp_path_factory.mktemp("acc")
    spec = tiny_spec(
        name="acc",
        columns=4,
        sites=2,
        planes=11,
        best_plane=5.0,
        height=192,
        width=192,
        well_offsets_um={"a03": 3.0},
        seed=11,
    )
    plate, path, manifest = generate_and_ingest(out, spec, "acc.ome.zarr")
    scores = score_plate(path, manifest, workers=2, progress=False)
    return plate, scores


@pytest.mark.parametrize("metric", ["tenengrad", "laplacian_variance", "brenner"])
def test_best_plane_within_one_plane_of_truth(accuracy_plate, metric):
    from platefocus.focus.bestplane import compare_to_truth

    plate, scores = accuracy_plate
    best = best_planes(scores, BestPlaneConfig(metric=metric))
    acc = compare_to_truth(best, pd.read_csv(plate / "truth" / "best_planes.csv"))
    assert len(acc) >= 30
    assert acc["within_one"].mean() >= 0.98, acc.sort_values("error_refined").to_string()
