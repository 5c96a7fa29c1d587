"""The Snakemake workflow itself: lint, formatting, config validation, and end-to-end runs."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import BIN, REPO, TINY, snakemake


def test_lint_clean():
    out = subprocess.run(
        [str(BIN / "snakemake"), "--lint"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Congratulations" in out.stdout + out.stderr


def test_snakefmt_clean():
    files = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]
    out = subprocess.run(
        [str(BIN / "snakefmt"), "--check", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_dry_run_default_config(tmp_path):
    out = snakemake(tmp_path, "-n", "--configfile", str(REPO / "config" / "config.yaml"))
    assert out.returncode == 0, out.stderr
    assert "ingest_plate" in out.stdout + out.stderr


def test_dry_run_with_the_gpu_settings(tmp_path):
    """config/gpu.yaml validates and plans the same jobs (it changes settings only)."""
    config = str(REPO / "config" / "config.yaml")
    plain = snakemake(tmp_path, "-n", "--configfile", config)
    gpu = snakemake(tmp_path, "-n", "--configfile", config, str(REPO / "config" / "gpu.yaml"))
    assert gpu.returncode == 0, gpu.stderr[-2000:]
    jobs = [line for line in plain.stdout.splitlines() if line.startswith("total")]
    assert jobs and jobs == [line for line in gpu.stdout.splitlines() if line.startswith("total")]


@pytest.mark.parametrize(
    "override, key, problem",
    [
        ("ingest:\n  on_bad_fle: skip\n", "on_bad_fle", "was unexpected"),
        ("acquisition:\n  pixel_size_um: -1\n", "pixel_size_um", "minimum"),
        ("ingest:\n  on_bad_file: ignore\n", "on_bad_file", "is not one of"),
        ("synthetic:\n  preset: huge\n", "preset", "is not one of"),
    ],
)
def test_bad_config_is_reported_by_key(tmp_path, override, key, problem):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(override)
    out = snakemake(tmp_path, "-n", "--configfile", str(REPO / "config" / "config.yaml"), str(cfg))
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert key in text and problem in text, text[-2000:]


@pytest.mark.e2e
def test_end_to_end_outputs(tiny_run):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    plate = tiny_run / "results" / "tiny" / "plate.ome.zarr"
    assert list(Reader(parse_url(str(plate)))())
    manifest = pd.read_parquet(tiny_run / "results" / "tiny" / "manifest.parquet")
    assert len(manifest) == 4 * 2 * 9
    assert (tiny_run / "results" / "tiny" / "qc" / "ingest_qc.tsv").exists()
    assert (tiny_run / "logs" / "ingest_plate" / "tiny.log").read_text()
    focus = tiny_run / "results" / "tiny" / "focus"
    scores = pd.read_parquet(focus / "plane_scores.parquet")
    assert len(scores) == 4 * 2 * 9 * 5  # fields x planes x (field + 4 tiles)
    targets = pd.read_parquet(focus / "targets.parquet")
    assert set(targets.columns) >= {"well", "site", "region", "best_z", "keep", "reason"}
    accuracy = pd.read_parquet(focus / "accuracy.parquet")
    assert accuracy["within_one"].mean() >= 0.9
    for name in ("focus_curves", "plate_heatmaps", "field_focus_map", "best_plane_accuracy"):
        assert (focus / "figures" / f"{name}.png").stat().st_size > 10_000
    models = tiny_run / "results" / "tiny" / "models"
    for model in ("restormer", "unet"):
        assert (models / model / "checkpoint.pt").exists()
        pairs = pd.read_parquet(models / model / "test_pairs.parquet")
        assert {"dz", "psnr_input", "psnr_pred", "ssim_input", "ssim_pred"} <= set(pairs.columns)
    for name in ("training_curves", "metrics_by_dz"):
        assert (models / "figures" / f"{name}.png").stat().st_size > 10_000


@pytest.mark.e2e
def test_physics_consistency_outputs(tiny_run):
    """The defocus operator beside the models, with its agreement table; consistency
    columns and object flags in the comparison; the hallucination figure on the page."""
    from platefocus.consistency.stack import load_kernels

    results = tiny_run / "results" / "tiny"
    kernels = load_kernels(results / "models" / "operator.npz")
    assert sorted(kernels) == [-2, 2]
    for kernel in kernels.values():
        assert kernel.shape == (31, 31) and abs(kernel.sum() - 1) < 1e-9 and kernel.min() >= 0
    table = pd.read_csv(results / "consistency" / "operator.tsv", sep="\t")
    assert list(table["dz_um"]) == [-4.0, 4.0] and (table["n_tiles"] > 0).all()
    assert table[["width_ratio", "profile_correlation"]].notna().all().all()
    planes = pd.read_parquet(results / "segmentation" / "restormer" / "fields.parquet")
    columns = ["consistency_score", "count_flagged", "flagged_false", "psnr_projected"]
    assert planes[columns].notna().all().all()
    assert (planes["count_flagged"] <= planes["count_restored"]).all()
    objects = pd.read_parquet(results / "segmentation" / "restormer" / "objects.parquet")
    restored = objects[objects["source"] == "restored"]
    assert restored["support"].notna().all() and restored["flagged"].notna().all()
    figure = results / "segmentation" / "restormer" / "figures" / "hallucination.png"
    assert figure.stat().st_size > 20_000
    page = (results / "summary.html").read_text()
    assert "Physics consistency" in page
    assert "SYNTHETIC plate(s) tiny: generated by platefocus.synth" in page
    summary = (results / "inspect" / "summary.txt").read_text()
    assert summary.startswith("platefocus: SYNTHETIC plate(s) tiny")
    assert "restored objects marked reliable" in page and "Reliable range" in page


@pytest.mark.e2e
def test_objects_carry_a_confidence_and_planes_a_reliable_range(tiny_run):
    """Every restored object has a confidence in [0, 1] and a verdict; every plane its
    count of reliable objects and its verdict against the held-out reliable range; the
    reliability table bins the confidence against the truth."""
    seg = tiny_run / "results" / "tiny" / "segmentation" / "restormer"
    objects = pd.read_parquet(seg / "objects.parquet")
    restored = objects[objects["source"] == "restored"]
    assert restored["confidence"].between(0, 1).all() and restored["real"].notna().all()
    planes = pd.read_parquet(seg / "fields.parquet")
    assert planes["beyond_reliable_range"].notna().all()  # the plate has held-out truth
    assert (planes["count_reliable"] <= planes["count_restored"]).all()
    beyond = planes[planes["beyond_reliable_range"].astype(bool)]
    assert (beyond["count_reliable"] == 0).all()
    table = pd.read_csv(seg / "reliability.tsv", sep="\t")
    assert table["objects"].iloc[:-1].sum() == len(restored)


@pytest.mark.e2e
def test_seeded_rerun_gives_byte_identical_outputs(tiny_run, tmp_path):
    """Every file of two seeded runs is identical: tables, images, Zarr chunks and
    metadata, checkpoints, pages; only ``logs/`` (which hold wall times) and Snakemake's
    ``.snakemake/`` are left out."""
    import hashlib

    out = snakemake(tmp_path, "--cores", "2", *TINY)
    assert out.returncode == 0, out.stderr[-2000:]

    def digests(root):
        files = sorted(
            p
            for p in root.rglob("*")
            if p.is_file() and p.relative_to(root).parts[0] not in ("logs", ".snakemake")
        )
        return {
            p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files
        }

    first, second = digests(tiny_run), digests(tmp_path)
    identical = sum(first[k] == second.get(k) for k in first)
    print(f"identical_files={identical}/{len(first | second)}")
    # hundreds of files (the viewer pyramid levels hold a channel's stack per chunk)
    assert first.keys() == second.keys() and len(first) >= 300
    assert [k for k in first if first[k] != second[k]] == []
    suffixes = {pathlib.Path(k).suffix for k in first}
    assert {".pt", ".parquet", ".png", ".json", ".html", ".tsv"} <= suffixes
    assert not list((tiny_run / "results").rglob("work")), "resume state left after training"
    assert list((tiny_run / "logs" / "train_model").rglob("*.timing.json"))


@pytest.mark.e2e
def test_restore_with_a_checkpoint_from_another_run(tiny_run, tmp_path):
    """``restore.checkpoint`` from another run restores byte-identical planes to
    restoring inside that run, and trains nothing."""
    import hashlib

    checkpoint = tiny_run / "results" / "tiny" / "models" / "restormer" / "checkpoint.pt"
    (tmp_path / "other.yaml").write_text(f"restore:\n  checkpoint: {checkpoint}\n")
    target = "results/tiny/restored/restormer.ome.zarr"
    out = snakemake(tmp_path, "--cores", "2", *TINY, str(tmp_path / "other.yaml"), "--", target)
    assert out.returncode == 0, out.stderr[-2000:]
    assert not (tmp_path / "results" / "tiny" / "models").exists()

    def chunks(root):
        return {
            p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file() and "/c/" in p.relative_to(root).as_posix()
        }

    here, there = chunks(tmp_path / target), chunks(tiny_run / target)
    assert here and here == there


@pytest.mark.e2e
def test_exported_package_restores_like_its_checkpoint(tiny_run, tmp_path):
    """Rule export_model writes a bioimage.io package; ``restore.checkpoint`` set to that
    package restores the same planes as the checkpoint did in the run that trained it."""
    import hashlib
    import shutil

    package = "results/tiny/models/restormer/package.zip"
    out = snakemake(tiny_run, "--cores", "1", *TINY, "--", package)
    assert out.returncode == 0, out.stderr[-2000:]
    # keep the shared run as `rule all` left it (the seeded-rerun test compares it)
    shutil.move(tiny_run / package, tmp_path / "model.zip")
    (tmp_path / "work").mkdir()
    (tmp_path / "pkg.yaml").write_text(f"restore:\n  checkpoint: {tmp_path / 'model.zip'}\n")
    target = "results/tiny/restored/restormer.ome.zarr"
    out = snakemake(
        tmp_path / "work", "--cores", "2", *TINY, str(tmp_path / "pkg.yaml"), "--", target
    )
    assert out.returncode == 0, out.stderr[-2000:]

    def chunks(root):
        return {
            p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file() and "/c/" in p.relative_to(root).as_posix()
        }

    here, there = chunks(tmp_path / "work" / target), chunks(tiny_run / target)
    assert here and here == there


def test_missing_restore_checkpoint_is_named(tmp_path):
    (tmp_path / "bad.yaml").write_text("restore: {checkpoint: /nowhere/model.pt}\n")
    out = snakemake(tmp_path, "-n", *TINY, str(tmp_path / "bad.yaml"))
    assert out.returncode != 0
    assert "restore.checkpoint: /nowhere/model.pt: no such file" in out.stdout + out.stderr


@pytest.mark.e2e
def test_rerun_has_nothing_to_do(tiny_run):
    out = snakemake(tiny_run, "-n", *TINY)
    assert out.returncode == 0
    assert "Nothing to be done" in out.stdout + out.stderr


def _planned(out) -> set[str]:
    """Rules a dry run plans (its job table)."""
    rules, table = set(), False
    for line in out.stdout.splitlines():
        if line.startswith("job ") and "count" in line:
            table = True
        elif table and line.strip() and not line.startswith("-") and not line.startswith("total"):
            rules.add(line.split()[0])
    return rules


@pytest.mark.e2e
def test_thread_device_and_cluster_settings_rerun_nothing(tiny_run, tmp_path):
    """Where and how fast jobs run is not what they compute: a dry run after changing
    only those plans no job; a result-changing key plans its jobs and not the others."""
    extra = tmp_path / "run_time.yaml"
    extra.write_text(
        "ingest: {threads: 3}\nfocus: {threads: 3}\ntraining: {threads: 1, device: cpu}\n"
        "restore: {threads: 3, device: cpu, prefetch: false}\n"
        "dask: {scheduler_address: 'tcp://elsewhere:8786'}\n"
    )
    out = snakemake(tiny_run, "-n", *TINY, str(extra))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Nothing to be done" in out.stdout + out.stderr, out.stdout[-3000:]
    extra.write_text("restore: {overlap: 8}\n")
    out = snakemake(tiny_run, "-n", *TINY, str(extra))
    planned = _planned(out)
    assert {"restore_wells", "restore_plate", "compare_segmentation"} <= planned, planned
    assert not planned & {"ingest_wells", "score_focus", "build_dataset", "train_model"}, planned


@pytest.mark.e2e
def test_bad_file_fails_job_and_leaves_no_output(tiny_run, tmp_path):
    work = tmp_path / "w"
    shutil.copytree(tiny_run / "resources", work / "resources")
    victim = sorted((work / "resources" / "synthetic" / "tiny" / "images").rglob("*.tif"))[4]
    victim.write_bytes(b"broken")
    out = snakemake(work, "--cores", "2", *TINY)
    assert out.returncode != 0
    # files are checked by the first ingest job, discover_plate
    log = (work / "logs" / "discover_plate" / "tiny.log").read_text()
    assert victim.name in log and "cannot read TIFF" in log
    assert not (work / "results" / "tiny" / "plate.ome.zarr").exists()
    assert not (work / "results" / "tiny" / "manifest.parquet").exists()


@pytest.mark.e2e
def test_summary_page_in_headless_chromium(tiny_run, tmp_path):
    """The pipeline's summary page loads offline in Chromium, with headings and figures."""
    import os
    import shutil

    if not shutil.which("chromedriver"):
        if os.environ.get("CI"):
            pytest.fail("chromedriver missing in CI: .ci/run installs chromium-driver")
        pytest.skip("Debian packages chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    page = tiny_run / "results" / "tiny" / "summary.html"
    options = webdriver.ChromeOptions()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1300,2000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get(page.as_uri())
        headings = [h.text for h in driver.find_elements("css selector", "h1, h2")]
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth])"
        )
        shot = tmp_path / "summary.png"
        driver.save_screenshot(str(shot))
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()
    assert any("platefocus summary" in h for h in headings)
    for expected in (
        "Headline numbers",
        "Paired SSIM per field",
        "Configuration",
        "Software versions",
    ):
        assert expected in headings, headings
    assert len(images) >= 8 and all(ok and width > 100 for ok, width in images), images
    assert not errors, errors
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 10  # not a blank page


@pytest.mark.e2e
def test_snakemake_report_has_every_registered_output(tiny_run, tmp_path):
    report = tmp_path / "report.html"
    out = snakemake(tiny_run, "--report", str(report), *TINY)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "ERROR" not in out.stderr, out.stderr[-3000:]  # caption markup problems
    text = report.read_text(errors="replace")
    for name in (
        "focus_curves.png",
        "plate_heatmaps.png",
        "field_focus_map.png",
        "best_plane_accuracy.png",
        "training_curves.png",
        "metrics_by_dz.png",
        "test_metrics_by_dz.tsv",
        "summary.tsv",
        "paired_ssim.png",
        "counts_per_well.png",
        "gain_heatmaps.png",
        "example_panels.png",
        "summary.html",
    ):
        assert name in text, name


def test_slurm_profile_names_real_rules_and_takes_partitions_from_config(tmp_path):
    import yaml

    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    out = subprocess.run(
        [str(BIN / "snakemake"), "--list-rules"], cwd=REPO, capture_output=True, text=True
    )
    rules = set(out.stdout.split())
    assert set(profile["set-resources"]) <= rules
    assert set(profile["set-threads"]) <= rules
    for resources in profile["set-resources"].values():
        assert {"mem_mb", "runtime", "cpus_per_task"} <= set(resources)
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text("cluster: {account: lab7, partition: cpu7, gpu_partition: gpu7}\n")
    dry = snakemake(
        tmp_path,
        "-n",
        "--profile",
        str(REPO / "profiles" / "slurm"),
        "--workflow-profile",
        "none",
        *TINY,
        str(cluster),
    )
    assert dry.returncode == 0, dry.stderr[-2000:]
    text = dry.stdout + dry.stderr
    assert "slurm_partition=cpu7" in text and "slurm_account=lab7" in text
    # synthesize_plate and discover_plate are the jobs planned before the checkpoint
    assert "cpus_per_task=8" in text


@pytest.mark.e2e
def test_comparison_target_on_the_tiny_plate(tmp_path):
    """Every architecture, one budget: the table and figure, in the report's inputs and on
    the summary page."""
    compare = tmp_path / "compare.yaml"
    compare.write_text(
        "training:\n"
        "  models:\n"
        "    restormer: {levels: 2, width: 8, norm: layer}\n"
        "    unet: {features: [8, 8, 16, 16, 16, 8]}\n"
        "    derestormer: {levels: 2, width: 8, points: 4}\n"
        "    dcn_lka: {width: 8, blocks: 1, kernel_size: 9}\n"
        # the same architecture again, with its own loss (signal-oriented)
        "    restormer_mse: {architecture: restormer, levels: 2, width: 8, norm: layer,\n"
        "                    loss: {mse: 1.0}}\n"
        # zero-shot: a diffusion prior and the plate's defocus operator
        "    ddnm: {width: 8, sampling_steps: 2}\n"
        # every restored plane projected onto its observation with the plate's operator
        "restore: {projection: true}\n"
        "comparison: {enabled: true, inference_side: 64, repeats: 1}\n"
    )
    out = snakemake(tmp_path, "--cores", "2", *TINY, str(compare))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    table = pd.read_csv(tmp_path / "results/tiny/comparison/models.tsv", sep="\t")
    assert list(table["model"]) == [
        "restormer",
        "unet",
        "derestormer",
        "dcn_lka",
        "restormer_mse",
        "ddnm",
        "input (no restoration)",
    ]
    models = table.iloc[:6]
    # each model's own loss reaches its checkpoint, the table and the report
    by_name = models.set_index("model")
    assert by_name.loc["restormer_mse", "architecture"] == "restormer"
    assert by_name.loc["restormer_mse", "loss"] == "mse 1"
    assert by_name.loc["restormer", "loss"] == "ssim 0.7 + l1 0.1 + mse 0.2"
    assert by_name.loc["ddnm", "loss"] == "diffusion prior: noise MSE"
    assert by_name["sampling_steps"].to_dict() == {**dict.fromkeys(by_name.index, 1), "ddnm": 2}
    from platefocus.consistency.stack import load_kernels
    from platefocus.model_io import load_model, read_model_info

    # DDNM keeps the plate's estimated operator in its weights and restored the plate
    ddnm, ddnm_info = load_model(tmp_path / "results/tiny/models/ddnm/checkpoint.pt")
    for dz, kernel in load_kernels(tmp_path / "results/tiny/models/operator.npz").items():
        slot = dz + ddnm_info.architecture_kwargs.get("max_offset", 16)
        np.testing.assert_allclose(ddnm.state_dict()["kernels"][slot].numpy(), kernel, 1e-6)
    assert (tmp_path / "results/tiny/segmentation/ddnm/fields.parquet").exists()
    import zarr

    restored = zarr.open_group(str(tmp_path / "results/tiny/restored/unet.ome.zarr"), mode="r")
    operator = restored.attrs["platefocus"]["restore"]["operator"]
    assert operator == "results/tiny/models/operator.npz"

    checkpoint = read_model_info(tmp_path / "results/tiny/models/restormer_mse/checkpoint.pt")
    assert checkpoint.architecture == "restormer" and checkpoint.loss == {"mse": 1.0}
    assert (models["parameters"] > 0).all() and (models["flops_per_pixel"] > 0).all()
    assert (models["infer_mpix_per_s"] > 0).all() and (models["epochs"] == 2).all()
    for column in ("psnr_dz2", "ssim_dz2", "seg_f1", "count_error"):
        assert table[column].notna().all(), column
    # the U-Net has far more parameters than the other pair-trained networks at these widths
    paired = models[models["model"] != "ddnm"]
    assert paired.set_index("model")["parameters"].idxmax() == "unet"
    assert (tmp_path / "results/tiny/comparison/models.png").stat().st_size > 20_000
    page = (tmp_path / "results/tiny/summary.html").read_text()
    assert "Model comparison" in page and "derestormer" in page and "dcn_lka" in page
    assert "mse 1" in page
