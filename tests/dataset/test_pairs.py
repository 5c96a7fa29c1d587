"""Training pairs: split by well, correct planes, normalisation stored and invertible."""

import numpy as np
import pytest
import zarr

from platefocus.dataset.pairs import DatasetConfig, build_dataset, split_wells
from platefocus.io.fields import field_array, list_fields


def test_split_by_well_is_deterministic_and_disjoint():
    wells = [f"A{i:02d}" for i in range(1, 11)]
    a = split_wells(wells, (0.7, 0.15, 0.15), seed=3)
    assert a == split_wells(list(reversed(wells)), (0.7, 0.15, 0.15), seed=3)
    assert a != split_wells(wells, (0.7, 0.15, 0.15), seed=4)
    assert sorted(a.values()).count("test") >= 1 and sorted(a.values()).count("val") >= 1
    assert split_wells(["A01", "A02"], (0.7, 0.15, 0.15), 0) == {"A01": "train", "A02": "train"}


def test_pairs_hold_the_right_planes_and_invert_to_raw(pairs_dataset):
    path, table, ctx = pairs_dataset
    group = zarr.open_group(str(path), mode="r")
    assert group["input"].shape[0] == len(table) == group["target"].shape[0]
    assert group["input"].chunks[0] == 256
    assert set(table.groupby("well")["split"].nunique()) == {1}  # no well in two splits
    assert set(table["split"]) == {"train", "val", "test"}
    refs = {(r.well, r.site): r for r in list_fields(ctx["manifest"])}
    rng = np.random.default_rng(0)
    for i in rng.choice(len(table), size=12, replace=False):
        row = table.iloc[i]
        ref = refs[(row.well, row.site)]
        stack = np.asarray(field_array(ctx["plate"], ref)[0]).astype(np.float64)
        win = np.s_[row.y0 : row.y0 + 32, row.x0 : row.x0 + 32]
        scale = row.norm_hi - row.norm_lo
        raw_in = group["input"][i, 0] * scale + row.norm_lo
        raw_target = group["target"][i, 0] * scale + row.norm_lo
        np.testing.assert_allclose(
            raw_in, stack[ref.z_indices.index(row.z_input)][win], rtol=1e-5, atol=1e-2
        )
        np.testing.assert_allclose(
            raw_target, stack[ref.z_indices.index(row.z_target)][win], rtol=1e-5, atol=1e-2
        )
        assert row.z_input - row.z_target == row.dz
        lo, hi = np.percentile(stack[ref.z_indices.index(row.z_input)], (1.0, 99.8))
        assert (row.norm_lo, row.norm_hi) == pytest.approx((lo, hi))


def test_holding_one_side_out_and_context_planes(pairs_dataset, tmp_path):
    _, _, ctx = pairs_dataset
    config = DatasetConfig(
        offsets=(-2, 2),
        patch_size=32,
        stride=32,
        train_sides="above",
        context_planes=1,
        split_fractions=(0.5, 0.17, 0.33),
        seed=1,
    )
    table = build_dataset(
        ctx["plate"], ctx["manifest"], ctx["targets"], config, tmp_path / "d.zarr", progress=False
    )
    assert set(table.loc[table.split != "test", "side"]) == {"above"}
    assert set(table.loc[table.split == "test", "side"]) == {"above", "below"}
    assert zarr.open_group(str(tmp_path / "d.zarr"), mode="r")["input"].shape[1] == 3


def test_train_offsets_keep_a_few_planes_for_training_and_test_every_one(pairs_dataset, tmp_path):
    """The ReFocus protocol: train on a few offsets of one side, test on every offset."""
    _, _, ctx = pairs_dataset
    config = DatasetConfig(
        offsets=(-4, -2, 2, 4),
        train_offsets=(-4,),
        patch_size=32,
        stride=32,
        split_fractions=(0.5, 0.17, 0.33),
        seed=1,
    )
    table = build_dataset(
        ctx["plate"], ctx["manifest"], ctx["targets"], config, tmp_path / "d.zarr", progress=False
    )
    assert set(table.loc[table.split != "test", "dz"]) == {-4}
    assert set(table.loc[table.split == "test", "dz"]) == {-4, -2, 2, 4}


def test_bad_dataset_config():
    with pytest.raises(ValueError, match="offsets"):
        DatasetConfig(offsets=(0, 2))
    with pytest.raises(ValueError, match="train_sides"):
        DatasetConfig(train_sides="left")
    with pytest.raises(ValueError, match="train_offsets"):
        DatasetConfig(offsets=(-2, 2), train_offsets=(4,))
    with pytest.raises(ValueError, match="split_fractions"):
        DatasetConfig(split_fractions=(0.5, 0.5, 0.5))


def test_no_target_kept_is_a_named_error_with_the_reasons(pairs_dataset, tmp_path):
    """Planes too small or too few objects: the error names ``targets``, how many tiles
    were judged and why they were rejected (it used to be a bare ValueError)."""
    from platefocus.errors import InputError

    _, _, ctx = pairs_dataset
    rejected = ctx["targets"].assign(keep=False, reason="too few objects (0 < 3)")
    with pytest.raises(InputError) as err:
        build_dataset(
            ctx["plate"],
            ctx["manifest"],
            rejected,
            ctx["config"],
            tmp_path / "d.zarr",
            progress=False,
        )
    text = str(err.value)
    assert text.startswith("targets:") and "no target tile was kept" in text
    assert f"0 of {len(rejected)} tiles" in text and "too few objects" in text
    assert "targets.min_objects" in text
    assert not (tmp_path / "d.zarr").exists()
