"""Values the schema accepts but that cannot work stop the run before any job, with the
key named (they used to fail late, after training, without it)."""

from __future__ import annotations

import pytest
from conftest import REPO, snakemake


@pytest.mark.parametrize(
    "bad, message",
    [
        ("restore: {tile: 64, overlap: 64}", "restore: overlap must be >= 0 and < tile"),
        ("restore: {model: resnet}", "restore.model: 'resnet' is not trained"),
        ("segmentation: {diameter_px: [40, 10]}", "segmentation: diameter_px must be 0 < min"),
        ("input: {layout: operetta, pattern: 'x'}", "input.pattern: given with input.layout"),
        ("training: {models: {resnet9: {}}}", "training.models: unknown architecture 'resnet9'"),
        (
            "training: {models: {restormer: {widht: 8}}}",
            "training.models.restormer: restormer takes no argument 'widht'",
        ),
        (
            "training: {models: {fast: {architecture: resnet9, loss: {mse: 1.0}}}}",
            "training.models.fast: unknown architecture 'resnet9'",
        ),
        ("consistency: {operator: op.npz}", "consistency.operator: given without restore."),
        (
            f"restore: {{checkpoint: {REPO / 'LICENSE'}}}\nconsistency: {{operator: op.npz}}",
            "consistency.operator: op.npz: no such file",
        ),
    ],
)
def test_bad_value_stops_the_dry_run_with_the_key_named(tmp_path, bad, message):
    (tmp_path / "bad.yaml").write_text(bad + "\n")
    out = snakemake(
        tmp_path,
        "-n",
        "--configfile",
        str(REPO / "config" / "config.yaml"),
        str(tmp_path / "bad.yaml"),
    )
    assert out.returncode != 0
    assert message in out.stderr + out.stdout
    assert "Traceback" not in out.stderr + out.stdout  # the one-line message, nothing else


def test_model_catalog_matches_the_registry():
    """The torch-free catalog (read from the source) equals the live builders' signatures."""
    import inspect

    from platefocus.models import MODELS
    from platefocus.models.catalog import BUILDER_ARGUMENTS, architecture_arguments

    live = {
        name: tuple(p for p in inspect.signature(builder).parameters if p not in BUILDER_ARGUMENTS)
        for name, builder in MODELS.items()
    }
    assert architecture_arguments() == live
    assert {"restormer", "unet", "derestormer", "dcn_lka"} <= set(live)


def test_config_check_imports_no_torch():
    """Parsing the workflow (which runs the config check) never imports torch."""
    import subprocess

    from conftest import BIN

    code = (
        "import sys, yaml; from snakemake.utils import validate; "
        "from platefocus.pipeline.common import check_config; "
        "config = yaml.safe_load(open('config/config.yaml')); "
        "validate(config, 'workflow/schemas/config.schema.yaml'); "
        "check_config(config); print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [str(BIN / "python"), "-c", code], cwd=REPO, capture_output=True, text=True
    )
    assert out.stdout.strip() == "False", out.stderr
