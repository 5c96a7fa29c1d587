"""Block plans (job granularity), partial outputs, and the Dask cluster settings."""

import json

import pytest

from platefocus.errors import InputError
from platefocus.io.blocks import block_wells, plan_blocks, read_block_plan, write_block_plan
from platefocus.io.partial import is_done, mark_done, require_done, stamp_of
from platefocus.parallel import slurm_cluster_kwargs


def test_blocks_cover_every_well_once_in_order():
    wells = [f"{r}{c:02d}" for r in "BA" for c in range(24, 0, -1)] + ["A01"]
    blocks = plan_blocks(wells, 5)
    flat = [w for b in blocks for w in b]
    assert flat == sorted(set(wells))
    assert [len(b) for b in blocks] == [5] * 9 + [3]


def test_block_plan_round_trip(tmp_path):
    path = tmp_path / "blocks.json"
    assert write_block_plan(["A02", "A01", "A03"], 2, path) == 2
    assert read_block_plan(path) == [["A01", "A02"], ["A03"]]
    assert block_wells(path, 1) == ["A03"]
    assert json.loads(path.read_text())["wells_per_job"] == 2
    with pytest.raises(InputError, match="block 2 requested, the plan has 2"):
        block_wells(path, 2)


def test_bad_block_plan_and_size(tmp_path):
    path = tmp_path / "blocks.json"
    path.write_text("{not json")
    with pytest.raises(InputError, match="not a block plan") as info:
        read_block_plan(path)
    assert info.value.where == str(path)
    with pytest.raises(InputError, match="wells_per_job"):
        plan_blocks(["A01"], 0)


def test_done_markers_carry_their_stamp(tmp_path):
    stamp = stamp_of({"checkpoint": "abc"}, [1, 2])
    assert stamp == stamp_of({"checkpoint": "abc"}, [1, 2])
    assert stamp != stamp_of({"checkpoint": "abd"}, [1, 2])
    assert not is_done(tmp_path, "A", 1, 0, stamp)
    mark_done(tmp_path, "A", 1, 0, stamp)
    assert is_done(tmp_path, "A", 1, 0, stamp)
    assert not is_done(tmp_path, "A", 1, 0, stamp_of("other"))
    require_done(tmp_path, [("A", 1, 0, "A01 site 1")], stamp)
    with pytest.raises(InputError, match=r"1 field\(s\) not written yet: \['A02 site 1'\]"):
        require_done(tmp_path, [("A", 1, 0, "A01"), ("A", 2, 0, "A02 site 1")], stamp)


def test_slurm_cluster_settings_and_job_script():
    from dask_jobqueue import SLURMCluster

    kwargs, jobs = slurm_cluster_kwargs(
        {"queue": "gpu", "account": "lab", "cores": 8, "memory": "32GB", "jobs": 3, "x": None}
    )
    assert jobs == 3
    assert kwargs == {
        "cores": 8,
        "memory": "32GB",
        "processes": 1,
        "walltime": "02:00:00",
        "queue": "gpu",
        "account": "lab",
    }
    with SLURMCluster(**kwargs) as cluster:  # no job is submitted until it is scaled
        script = cluster.job_script()
    assert "#SBATCH -p gpu" in script
    assert "#SBATCH -A lab" in script
    assert "#SBATCH --cpus-per-task=8" in script
