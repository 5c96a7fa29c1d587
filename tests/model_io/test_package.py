"""BioImage Model Zoo packages: export, `bioimageio test`, import, restore, bad packages."""

import zipfile

import numpy as np
import pytest
import yaml
import zarr

from platefocus.errors import InputError
from platefocus.io.omezarr import Acquisition
from platefocus.model_io import read_model_info
from platefocus.model_io.package import TOLERANCE
from platefocus.restore import PlaneSelection, restore_plate
from platefocus.restore.settings import RestoreConfig


@pytest.fixture(scope="module")
def package(pairs_dataset, tiny_checkpoints, tmp_path_factory):
    """The LayerNorm tiny checkpoint exported with a plane of the pairs plate."""
    from platefocus.pipeline.training import export_model

    _, _, ctx = pairs_dataset
    out = tmp_path_factory.mktemp("package")
    best = out / "best.parquet"
    ctx["best"].to_parquet(best)
    return export_model(tiny_checkpoints["layer"], ctx["plate"], out / "model.zip", best_path=best)


def test_bioimageio_test_passes(package):
    from bioimageio.core import test_model

    summary = test_model(str(package))
    failed = [(d.name, [e.msg for e in d.errors]) for d in summary.details if d.errors]
    assert summary.status == "passed", failed
    names = " ".join(d.name for d in summary.details)
    assert "Reproduce test outputs" in names  # the test tensors were really compared


def test_package_contents(package, tiny_checkpoints):
    with zipfile.ZipFile(package) as z:
        names = set(z.namelist())
        rdf = yaml.safe_load(z.read("rdf.yaml"))
    assert {"rdf.yaml", "weights.pt", "test_input.npy", "test_output.npy", "cover.png"} <= names
    steps = [p for p in rdf["inputs"][0]["preprocessing"] if p["id"] != "ensure_dtype"]
    (step,) = steps
    assert step["id"] == "scale_range"
    assert (step["kwargs"]["min_percentile"], step["kwargs"]["max_percentile"]) == (1.0, 99.8)
    assert [a.get("id", a["type"]) for a in rdf["inputs"][0]["axes"]] == [
        "batch",
        "channel",
        "y",
        "x",
    ]
    tolerance = rdf["config"]["bioimageio"]["reproducibility_tolerance"][0]
    assert tolerance["absolute_tolerance"] == TOLERANCE["absolute_tolerance"]
    assert rdf["weights"]["pytorch_state_dict"]["architecture"]["kwargs"]["name"] == "restormer"
    assert rdf["training_data"]["name"]
    assert rdf["config"]["platefocus"]["dataset"]["plates"] == ["pairs"]


def test_import_then_restore_matches_the_checkpoint(
    package, restored, pairs_dataset, tiny_checkpoints, tmp_path
):
    """The package restores the plate as its checkpoint did (the `restored` fixture)."""
    out, _ = restored
    _, _, ctx = pairs_dataset
    info = read_model_info(package)
    assert info.architecture == "restormer" and len(info.sha256) == 64
    assert info.exported_from_sha256 == read_model_info(tiny_checkpoints["layer"]).sha256
    again = tmp_path / "from_package.ome.zarr"
    restore_plate(
        ctx["plate"],
        ctx["manifest"],
        package,
        again,
        PlaneSelection(offsets=(-3, 3)),
        RestoreConfig(tile=64, overlap=16),
        Acquisition(0.65, 2.0),
        best=ctx["best"],
        progress=False,
    )
    a, b = zarr.open_group(str(out), mode="r"), zarr.open_group(str(again), mode="r")
    worst = 0.0
    for path in ("A/1/0", "A/2/1", "B/3/0"):
        x = np.asarray(a[path]["s0"], dtype=np.float64)
        y = np.asarray(b[path]["s0"], dtype=np.float64)
        span = np.percentile(x, 99.8) - np.percentile(x, 1)
        worst = max(worst, float(np.abs(x - y).max() / span))
    print(f"max |package - checkpoint| / range = {worst:.2e}")
    assert worst <= TOLERANCE["absolute_tolerance"]
    provenance = b.attrs["platefocus"]["provenance"]
    assert provenance["trained_on"] == ["pairs"]
    assert provenance["exported_from_sha256"] == a.attrs["platefocus"]["checkpoint_sha256"]


def _rewrite(package, out, edit_rdf=None, drop=()):
    """A copy of ``package`` with its rdf.yaml edited and some files left out."""
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            if item.filename in drop:
                continue
            data = src.read(item.filename)
            if item.filename == "rdf.yaml" and edit_rdf:
                rdf = yaml.safe_load(data)
                edit_rdf(rdf)
                data = yaml.safe_dump(rdf).encode()
            dst.writestr(item, data)
    return out


def _swap_axes(rdf):
    axes = rdf["inputs"][0]["axes"]
    axes[2], axes[3] = axes[3], axes[2]


def _other_preprocessing(rdf):
    rdf["inputs"][0]["preprocessing"] = [
        {"id": "zero_mean_unit_variance", "kwargs": {"axes": ["y", "x"]}}
    ]


def _other_percentiles(rdf):
    for step in rdf["inputs"][0]["preprocessing"]:
        if step["id"] == "scale_range":
            step["kwargs"]["max_percentile"] = 99.0


@pytest.mark.parametrize(
    ("edit", "drop", "message"),
    [
        (_swap_axes, (), r"axes \('batch', 'channel', 'x', 'y'\), expected"),
        (None, ("weights.pt",), r"missing weights: pytorch_state_dict file 'weights.pt'"),
        (_other_preprocessing, (), r"preprocessing is \['zero_mean_unit_variance'\]"),
        (_other_percentiles, (), r"percentiles \(1\.0, 99\.0\).*trained with \(1\.0, 99\.8\)"),
    ],
    ids=["wrong-axes", "missing-weights", "other-preprocessing", "other-percentiles"],
)
def test_bad_packages_give_a_one_line_error(package, tmp_path, edit, drop, message):
    bad = _rewrite(package, tmp_path / "bad.zip", edit, drop)
    with pytest.raises(InputError, match=message) as err:
        read_model_info(bad)
    assert "\n" not in str(err.value) and str(bad) in str(err.value)


def test_not_a_package(tmp_path):
    junk = tmp_path / "model.zip"
    junk.write_text("not a zip")
    with pytest.raises(InputError, match="not a zip archive"):
        read_model_info(junk)
