"""Segmentation by a Cellpose model in the workflow (``segmentation.method: cellpose``):
a model trained from scratch on the tiny plate's true masks by rule train_segmenter (no
download, no network), and the comparison tables, the summary page and the
hallucination check made with it as with the classic path."""

from __future__ import annotations

import hashlib
import json
import shutil

import pandas as pd
import pytest
from conftest import TINY, snakemake


@pytest.mark.e2e
def test_workflow_segments_with_a_cellpose_model_trained_on_the_plate(tiny_run, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(tiny_run, work, symlinks=True)  # the classic run's restored plate is kept
    extra = tmp_path / "cellpose.yaml"
    extra.write_text(
        "segmentation:\n  method: cellpose\n  cellpose: {model: plate, epochs: 2, batch_size: 4}\n"
    )
    out = snakemake(work, "--cores", "2", *TINY, str(extra))
    assert out.returncode == 0, out.stderr[-4000:]
    ran = out.stderr
    assert "train_segmenter" in ran and "train_model" not in ran  # restoration untouched
    results = work / "results" / "tiny"
    model = results / "models" / "segmenter" / "cellpose_model"
    provenance = json.loads((model.parent / "cellpose_model.json").read_text())
    assert provenance["trained_on"] == ["tiny"] and provenance["epochs"] == 2
    assert provenance["weights_sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    pairs = pd.read_parquet(results / "dataset" / "pairs.parquet")
    train_wells = set(pairs.loc[pairs["split"] == "train", "well"])
    assert {f.split()[1] for f in provenance["fields"]} == train_wells  # held-out wells held out

    fields = pd.read_parquet(results / "segmentation" / "restormer" / "fields.parquet")
    for column in ("count_raw", "count_restored", "count_reliable", "f1_raw", "f1_restored"):
        assert column in fields.columns
    assert fields["f1_raw"].between(0, 1).all() and fields["f1_restored"].between(0, 1).all()
    hallucination = results / "segmentation" / "restormer" / "figures" / "hallucination.png"
    summary = results / "summary.html"
    for made in (hallucination, summary, results / "segmentation" / "restormer" / "summary.tsv"):
        assert made.stat().st_mtime >= model.stat().st_mtime, made  # made again, with it
    log = (work / "logs" / "train_segmenter" / "tiny.log").read_text()
    assert "training a Cellpose segmenter" in log


def test_a_missing_cellpose_model_is_named_before_any_job(tmp_path):
    extra = tmp_path / "cellpose.yaml"
    extra.write_text(f"segmentation:\n  method: cellpose\n  cellpose: {{model: {tmp_path}/nope}}\n")
    out = snakemake(tmp_path, "-n", *TINY, str(extra))
    said = out.stdout + out.stderr
    assert out.returncode != 0
    assert f"segmentation.cellpose.model: {tmp_path}/nope: no such model file" in said
    assert "nothing is downloaded" in said
