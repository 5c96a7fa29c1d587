"""The house rules of the code base, checked over the source: one room per stage, names
equal at every layer, one owner of each format and convention, small modules."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from conftest import REPO

SRC = REPO / "src" / "platefocus"
RULES = REPO / "workflow" / "rules"
SCRIPTS = REPO / "workflow" / "scripts"
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _rule_scripts() -> dict[str, tuple[str, str]]:
    """``rule name -> (rule file stem, script file name)`` for every rule with a script."""
    found = {}
    for smk in sorted(RULES.glob("*.smk")):
        for block in re.split(r"^(?=(?:rule|checkpoint) )", smk.read_text(), flags=re.M):
            head = re.match(r"(?:rule|checkpoint) (\w+):", block)
            script = re.search(r'script:\s*\n\s*"\.\./scripts/([\w.]+)"', block)
            if head and script:
                found[head.group(1)] = (smk.stem, script.group(1))
    return found


def test_no_steps_module_is_left():
    hits = [
        str(p)
        for p in [*SRC.rglob("*.py"), *SCRIPTS.glob("*.py"), *RULES.glob("*.smk")]
        if "platefocus.steps" in p.read_text()
    ]
    assert not hits


def test_modules_and_functions_are_small():
    too_long = []
    for path in _modules():
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            too_long.append(f"{path.relative_to(SRC)}: {lines} lines")
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(SRC)}:{node.name}: {length} lines")
    assert not too_long


def test_only_io_touches_zarr_metadata():
    """Outside ``io/`` no module imports zarr or reads or writes a group's ``attrs``."""
    offenders = []
    for path in _modules():
        if path.parent.name == "io":
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Attribute) and node.attr == "attrs":
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} .attrs")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                module = getattr(node, "module", None) or ""
                if module.split(".")[0] == "zarr" or any(n.split(".")[0] == "zarr" for n in names):
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno} imports zarr")
    assert not offenders


def test_percentile_normalisation_is_defined_once():
    hits = [
        f"{p.relative_to(SRC)}:{i}"
        for p in _modules()
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if "99.8" in line
    ]
    assert hits == [f"{Path('dataset') / 'normalise.py'}:{_line_of('DEFAULT_PERCENTILES:')}"]


def _line_of(text: str) -> int:
    lines = (SRC / "dataset" / "normalise.py").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def test_library_never_imports_snakemake():
    for path in _modules():
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] != "snakemake" for a in node.names), path
            if isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] != "snakemake", path


def test_every_rule_calls_the_pipeline_function_of_its_name():
    """Rule ``X`` in ``rules/<stage>.smk`` -> ``scripts/X.py`` -> ``pipeline.<stage>.X``."""
    rules = _rule_scripts()
    assert len(rules) >= 20
    for rule, (stage, script) in rules.items():
        assert script == f"{rule}.py", f"rule {rule} runs {script}"
        calls = [
            (node.module, alias.name)
            for node in ast.walk(_tree(SCRIPTS / script))
            if isinstance(node, ast.ImportFrom) and node.module.startswith("platefocus.pipeline")
            for alias in node.names
        ]
        assert calls == [(f"platefocus.pipeline.{stage}", rule)], f"{script} imports {calls}"
        assert callable(getattr(importlib.import_module(f"platefocus.pipeline.{stage}"), rule))
    adapters = {p.name for p in SCRIPTS.glob("*.py")}
    assert adapters == {script for _, script in rules.values()}, "adapter without a rule"


def test_pipeline_modules_mirror_the_rule_files():
    stages = {p.stem for p in RULES.glob("*.smk")}
    modules = {p.stem for p in (SRC / "pipeline").glob("*.py")} - {"__init__"}
    assert modules == stages


@pytest.mark.parametrize(
    "package",
    sorted(p.parent.name for p in SRC.glob("*/__init__.py")),
)
def test_packages_list_their_public_names(package):
    module = importlib.import_module(f"platefocus.{package}")
    assert module.__all__, package
    for name in module.__all__:
        assert hasattr(module, name) or importlib.util.find_spec(f"platefocus.{package}.{name}")


def test_every_module_imports():
    """Lazily used modules (comparison, CLI commands) import too, not only the tested ones."""
    import pkgutil

    import platefocus

    for module in pkgutil.walk_packages(platefocus.__path__, "platefocus."):
        importlib.import_module(module.name)


#: Keys only a model file has (a config section or a table never uses them).
CHECKPOINT_KEYS = {
    "model_state",
    "model_kwargs",
    "in_channels",
    "dataset_digest",
    "optimiser",
    "best_val",
    "checkpoint_sha256",
}


def test_only_model_io_reads_model_files():
    """Outside ``model_io/`` no module calls ``torch.load`` or indexes a checkpoint dict
    by one of its keys (``state["model_state"]``, ``state.get("in_channels")``)."""
    offenders = []
    for path in _modules():
        if path.parent.name == "model_io":
            continue
        for node in ast.walk(_tree(path)):
            where = f"{path.relative_to(SRC)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr == "load" and getattr(node.func.value, "id", "") == "torch":
                    offenders.append(f"{where} torch.load")
                if node.func.attr == "get" and node.args:
                    key = node.args[0]
                    if isinstance(key, ast.Constant) and key.value in CHECKPOINT_KEYS:
                        offenders.append(f"{where} .get({key.value!r})")
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                if node.slice.value in CHECKPOINT_KEYS:
                    offenders.append(f"{where} [{node.slice.value!r}]")
    assert not offenders


def test_restoration_and_comparison_do_not_import_training():
    """Restoring a plate or comparing models imports no module of ``platefocus.train``."""
    import subprocess
    import sys

    code = (
        "import sys, platefocus.restore.plate, platefocus.compare.models, "
        "platefocus.pipeline.restore;"
        "print(sorted(m for m in sys.modules if m.startswith('platefocus.train')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
