"""The reliable range from held-out planes, each plane's verdict, and the reliability table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from platefocus.compare.reliability import (
    apply_held_out_consistency,
    apply_reliable_range,
    consistency_against_held_out,
    reliability_table,
    reliable_range,
)

F1_BY_DZ = {1: 0.9, 2: 0.7, 3: 0.4, 4: 0.6}  # the curve fails at 3: 4 is not trusted either


def _planes() -> pd.DataFrame:
    rows = []
    for dz, f1 in F1_BY_DZ.items():
        for sign in (-1, 1):
            rows.append(
                dict(
                    plate="p",
                    well="a01",
                    site=1,
                    dz=sign * dz,
                    f1_restored=f1,
                    split="test",
                    truth="true labels",
                    estimated_defocus_um=np.nan,
                )
            )
    rows.append(
        dict(
            plate="p",
            well="a02",
            site=1,
            dz=np.nan,
            f1_restored=np.nan,
            split="test",
            truth="none",
            estimated_defocus_um=-8.0,
        )
    )
    return pd.DataFrame(rows)


def _objects(planes: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for plane in planes.itertuples():
        for label in (1, 2):
            rows.append(
                dict(
                    plate="p",
                    well=plane.well,
                    site=1,
                    dz=plane.dz,
                    source="restored",
                    label=label,
                    reliable=True,
                )
            )
        rows.append(
            dict(
                plate="p",
                well=plane.well,
                site=1,
                dz=plane.dz,
                source="raw",
                label=1,
                reliable=np.nan,
            )
        )
    return pd.DataFrame(rows)


def test_range_stops_at_the_first_distance_that_fails():
    assert reliable_range(_planes()) == 2.0
    assert reliable_range(_planes(), min_f1=0.95) == 0.0
    assert reliable_range(_planes().assign(truth="best plane")) is None


def test_planes_beyond_the_range_have_no_reliable_objects():
    planes = _planes()
    judged, objects = apply_reliable_range(planes, _objects(planes), 2.0, z_step_um=2.0)
    beyond = judged.set_index(["well", "dz"])["beyond_reliable_range"]
    assert not beyond[("a01", 2)] and beyond[("a01", -3)] and beyond[("a01", 4)]
    assert beyond[("a02", np.nan)]  # one plane per field: 8 um estimated = 4 planes
    counts = judged.set_index(["well", "dz"])["count_reliable"]
    assert counts[("a01", 1)] == 2 and counts[("a01", 3)] == 0 and counts[("a02", np.nan)] == 0
    restored = objects[objects["source"] == "restored"]
    assert restored["reliable"].sum() == 2 * 4  # dz = +-1, +-2


def test_unknown_range_qualifies_nothing():
    planes = _planes()
    judged, _ = apply_reliable_range(planes, _objects(planes), None, z_step_um=2.0)
    assert judged["beyond_reliable_range"].isna().all()
    assert judged["reliable_range_dz"].isna().all()
    assert (judged["count_reliable"] == 2).all()


def test_reliability_table_bins_confidence_against_real():
    objects = pd.DataFrame(
        dict(
            source="restored",
            confidence=[0.05, 0.1, 0.5, 0.9, 0.95, 0.99],
            real=[False, False, True, True, True, False],
            reliable=[False, False, True, True, True, True],
        )
    )
    table = reliability_table(objects, bins=2)
    assert list(table["objects"]) == [2, 4, 4]
    assert list(table["fraction_real"]) == pytest.approx([0.0, 0.75, 0.75])
    assert reliability_table(objects.drop(columns="real")).empty


def test_consistency_is_set_against_the_held_out_planes_at_the_same_distance():
    reference = pd.DataFrame(
        dict(
            dz=[-2, 2, 2, 4, 4, 2],
            consistency_score=[2.0, 4.0, 6.0, 10.0, 10.0, 50.0],
            split=["test"] * 5 + ["train"],  # training planes are not the yardstick
            truth="true labels",
        )
    )
    planes = pd.DataFrame(
        dict(
            dz=[-2.0, np.nan, np.nan, 6.0],
            operator_dz=[np.nan, -4.0, np.nan, np.nan],  # single plane checked at |dz| 4
            consistency_score=[8.0, 10.0, np.nan, 3.0],
        )
    )
    out = consistency_against_held_out(planes, reference)
    np.testing.assert_allclose(out["consistency_vs_held_out"], [2.0, 1.0, np.nan, np.nan])
    np.testing.assert_allclose(out["consistency_vs_held_out_max"], [1.5, 1.0, np.nan, np.nan])
    without = consistency_against_held_out(planes, reference.drop(columns="consistency_score"))
    assert without.isna().all().all() and list(without.index) == list(planes.index)


def test_a_plane_without_truth_unlike_the_held_out_planes_keeps_no_reliable_object():
    key = dict(plate="p", well="a01", site=1)
    planes = pd.DataFrame(
        [
            dict(key, dz=np.nan, truth="none", consistency_vs_held_out=1.6),  # unlike
            dict(key, site=2, dz=np.nan, truth="none", consistency_vs_held_out=1.05),
            dict(key, dz=4.0, truth="true labels", consistency_vs_held_out=1.6),  # truth
            dict(key, site=3, dz=np.nan, truth="none", consistency_vs_held_out=np.nan),
        ]
    ).assign(consistency_vs_held_out_max=1.2, count_reliable=1)
    objects = pd.DataFrame(
        [
            dict(key, site=s, dz=dz, source="restored", reliable=True)
            for s, dz in [(1, np.nan), (2, np.nan), (1, 4.0), (3, np.nan)]
        ]
        + [dict(key, dz=np.nan, source="raw", reliable=np.nan)]
    )
    planes, objects = apply_held_out_consistency(planes, objects)
    assert planes["unlike_held_out"].tolist() == [True, False, pd.NA, pd.NA]
    assert planes["count_reliable"].tolist() == [0, 1, 1, 1]
    restored = objects[objects["source"] == "restored"]
    assert restored["reliable"].tolist() == [False, True, True, True]


def test_without_consistency_ratios_nothing_is_judged():
    planes = pd.DataFrame(dict(plate="p", well="a01", site=[1], dz=[np.nan], truth="none"))
    objects = pd.DataFrame(
        dict(plate="p", well="a01", site=[1], dz=[np.nan], source="restored", reliable=True)
    )
    planes, objects = apply_held_out_consistency(planes, objects)
    assert planes["unlike_held_out"].isna().all() and objects["reliable"].all()
