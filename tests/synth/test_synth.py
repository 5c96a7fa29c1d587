"""The synthetic plate generator: layout, determinism, ground truth consistent with images."""

import hashlib
import re

import numpy as np
import pandas as pd
import pytest
import tifffile
from conftest import plane_files, tiny_spec, z_of
from scipy import ndimage

from platefocus.synth import generate_plate, preset


def digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_bbbc006_file_layout(tiny_plate):
    files = plane_files(tiny_plate)
    assert len(files) == 2 * 1 * 9  # wells x sites x planes, one channel
    pattern = re.compile(
        r"images/synthetic_v1_images_z_\d{2}/tiny_[a-p]\d{2}_s\d_w\d"
        r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\.tif$"
    )
    for f in files:
        assert pattern.search(f.as_posix()), f
        img = tifffile.imread(f)
        assert img.dtype == np.uint16 and img.shape == (96, 96)
    uids = {f.name.split("_w1")[1] for f in files}
    assert len(uids) == len(files)  # the UID differs between planes, as in BBBC006


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, tiny_plate):
    again = generate_plate(tiny_spec(), tmp_path / "again", progress=False)
    assert digest(again) == digest(tiny_plate)
    other = generate_plate(tiny_spec(seed=4), tmp_path / "other", progress=False)
    assert digest(other) != digest(tiny_plate)


def test_no_partial_folder_left(tmp_path, monkeypatch):
    import platefocus.synth.plate as plate

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(plate, "_relabel", boom)
    with pytest.raises(RuntimeError):
        generate_plate(tiny_spec(), tmp_path / "p", progress=False)
    assert not (tmp_path / "p").exists()


def test_refuses_to_overwrite(tiny_plate):
    with pytest.raises(FileExistsError):
        generate_plate(tiny_spec(), tiny_plate, progress=False)


def stack_of(plate_dir, well, site=1, channel=1):
    files = [f for f in plane_files(plate_dir) if f"_{well}_s{site}_w{channel}" in f.name]
    files.sort(key=z_of)
    return np.stack([tifffile.imread(f).astype(float) for f in files])


def test_each_nucleus_is_sharpest_at_its_recorded_height(tiny_plate):
    # Independent check of images against truth: each labelled nucleus, matched to its row
    # in nuclei.csv by centre, has the most gradient energy (Sobel, over its footprint
    # grown by 3 px) within one plane of its recorded height.
    nuclei = pd.read_csv(tiny_plate / "truth" / "nuclei.csv")
    checked = 0
    for well in ("a01", "a02"):
        stack = stack_of(tiny_plate, well)
        labels = tifffile.imread(tiny_plate / "truth" / f"tiny_{well}_s1_labels.tif")
        grown = ndimage.grey_dilation(labels, size=7)
        energy = [ndimage.sobel(p, 0) ** 2 + ndimage.sobel(p, 1) ** 2 for p in stack]
        rows = nuclei[nuclei.well == well]
        for lab in range(1, labels.max() + 1):
            mask = grown == lab
            cy, cx = ndimage.center_of_mass(labels == lab)
            d = np.hypot(rows.y_px - cy, rows.x_px - cx)
            if d.min() > 2 or (labels == lab).sum() < 150:  # cut by the border
                continue
            sharpest = int(np.argmax([e[mask].sum() for e in energy]))
            true_plane = rows.iloc[int(np.argmin(d))].z_um / 2.0
            assert abs(sharpest - true_plane) <= 1.0, (well, lab, sharpest, true_plane)
            checked += 1
    assert checked >= 3


def test_labels_match_in_focus_image(tiny_plate):
    truth = tiny_plate / "truth"
    for well in ("a01", "a02"):
        labels = tifffile.imread(truth / f"tiny_{well}_s1_labels.tif")
        infocus = tifffile.imread(truth / f"tiny_{well}_s1_w1_infocus.tif").astype(float)
        assert labels.max() >= 3
        assert set(np.unique(labels)) == set(range(labels.max() + 1))  # sequential
        inside = infocus[labels > 0].mean()
        outside = infocus[ndimage.binary_dilation(labels > 0, iterations=4) == 0].mean()
        assert inside > 2 * outside
        # each label is one connected blob of plausible nucleus size (19.5 um ~ 30 px)
        areas = ndimage.sum_labels(np.ones_like(labels), labels, range(1, labels.max() + 1))
        full = areas[areas > 100]
        assert 300 < np.median(full) < 1100


def test_nucleus_table_and_quadrant_truth(tiny_plate):
    best = pd.read_csv(tiny_plate / "truth" / "best_planes.csv")
    assert set(best["tile"]) == {"field", "t00", "t01", "t10", "t11"}
    nuclei = pd.read_csv(tiny_plate / "truth" / "nuclei.csv")
    for (well, site), rows in best.groupby(["well", "site"]):
        field = rows.query("tile == 'field'").iloc[0]
        n = nuclei[(nuclei.well == well) & (nuclei.site == site)]
        in_field = n[(n.y_px >= 0) & (n.y_px < 96) & (n.x_px >= 0) & (n.x_px < 96)]
        assert field["n_objects"] == len(in_field)
        assert rows.query("tile != 'field'")["n_objects"].sum() == len(in_field)
        assert field["best_z"] == pytest.approx(np.median(in_field.z_um) / 2.0)


def test_camera_noise_and_offset(tiny_plate):
    stack = stack_of(tiny_plate, "a01")
    far = stack[0]
    # background sits near offset + background electrons (100 + 30 ADU) with shot noise
    background = np.percentile(far, 5)
    assert 110 < background < 140
    assert far.std() > 2.0


def test_second_channel(tmp_path):
    spec = tiny_spec(channels=2, columns=1, planes=5, best_plane=2.0)
    out = generate_plate(spec, tmp_path / "two", progress=False)
    w2 = sorted((out / "images").rglob("*_w2*.tif"))
    assert len(w2) == 5
    assert (out / "truth" / "tiny_a01_s1_w2_infocus.tif").exists()


def test_presets():
    big = preset("bbbc006")
    assert (big.rows * big.columns, big.sites, big.channels, big.planes) == (384, 2, 2, 34)
    assert (big.height, big.width, big.best_plane) == (520, 696, 16.0)
    assert big.optics.z_step_um == 2.0
    with pytest.raises(ValueError, match="unknown synthetic preset"):
        preset("nope")
    with pytest.raises(ValueError, match="unknown synthetic plate setting"):
        preset("demo", colums=3)
    with pytest.raises(ValueError, match="best_plane"):
        preset("demo", planes=5, best_plane=9)
