"""The comparison per signed plane offset in micrometres, above and below focus apart."""

import numpy as np
import pandas as pd
import pytest

from platefocus.compare.offsets import INPUT, beats_input, offset_table, offsets_wide


def fields(path, dzs, gain, split="test"):
    """A per-plane segmentation table: raw quality falls with |dz|, restored = raw + gain."""
    rows = []
    for well in ("A01", "A02"):
        for dz in dzs:
            raw = 1.0 - 0.1 * abs(dz)
            rows.append(
                dict(
                    well=well,
                    split=split if well == "A01" else "train",
                    dz=dz,
                    psnr_raw=30 * raw,
                    psnr_restored=30 * raw + gain,
                    ssim_raw=raw,
                    ssim_restored=raw + gain / 100,
                    f1_raw=raw,
                    f1_restored=min(1.0, raw + gain / 100),
                    count_raw=10 - abs(dz),
                    count_restored=10,
                    count_truth=10,
                )
            )
    pd.DataFrame(rows).to_parquet(path)
    return path


def test_one_row_per_model_and_signed_offset_in_micrometres(tmp_path):
    a = fields(tmp_path / "a.parquet", [-3, -1, 1, 3], gain=2.0)
    b = fields(tmp_path / "b.parquet", [-3, -1, 1, 3], gain=-1.0)
    table = offset_table(["good", "bad"], [a, b], z_step_um=2.0, in_training=lambda dz: dz < 0)
    assert list(dict.fromkeys(table["model"])) == [INPUT, "good", "bad"]
    rows = table[table["model"] == "good"].set_index("dz")
    assert list(rows["dz_um"]) == [-6.0, -2.0, 2.0, 6.0]
    assert list(rows["side"]) == ["below", "below", "above", "above"]
    assert list(rows["in_training"]) == [True, True, False, False]
    # held-out wells only: one field per offset
    assert (rows["n_planes"] == 1).all()
    assert rows.loc[3, "psnr"] == pytest.approx(30 * 0.7 + 2.0)
    assert rows.loc[3, "count_error"] == 0
    inputs = table[table["model"] == INPUT].set_index("dz")
    assert inputs.loc[-3, "count_error"] == pytest.approx(0.3)
    better = beats_input(table, "psnr")
    assert better[better["model"] == "good"]["better"].all()
    assert not better[better["model"] == "bad"]["better"].any()
    assert beats_input(table, "count_error").query("model == 'good'")["better"].all()


def test_the_wide_table_has_a_column_per_metric_and_model(tmp_path):
    a = fields(tmp_path / "a.parquet", [-2, 2], gain=1.0)
    wide = offsets_wide(offset_table(["m"], [a], z_step_um=0.5))
    assert list(wide["dz_um"]) == [-1.0, 1.0]
    assert list(wide.columns[:4]) == ["dz_um", "side", "psnr input", "psnr m"]
    assert np.isfinite(wide.drop(columns="side").to_numpy(float)).all()


def test_every_field_counts_when_no_well_is_held_out(tmp_path):
    a = fields(tmp_path / "a.parquet", [-1, 1], gain=1.0, split="train")
    table = offset_table(["m"], [a], z_step_um=2.0)
    assert (table["n_planes"] == 2).all() and table["in_training"].all()


def test_projected_planes_add_a_row_set_per_model(tmp_path):
    path = fields(tmp_path / "a.parquet", [-2, 2], gain=1.0)
    frame = pd.read_parquet(path)
    frame = frame.assign(
        psnr_projected=frame["psnr_restored"] - 3,
        ssim_projected=frame["ssim_restored"],
        f1_projected=frame["f1_restored"],
        count_projected=frame["count_restored"],
    )
    frame.to_parquet(path)
    table = offset_table(["m"], [path], z_step_um=2.0)
    assert list(dict.fromkeys(table["model"])) == [INPUT, "m", "m + projection"]
    both = table.pivot(index="dz", columns="model", values="psnr")
    assert (both["m + projection"] == both["m"] - 3).all()
