"""The conda environment stays consistent with the project's pinned Python dependencies."""

import re
import tomllib

import yaml
from conftest import REPO


def pinned():
    pins = {}
    for line in (REPO / "requirements" / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[normalise(name)] = version.strip()
    return pins


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def env_packages():
    env = yaml.safe_load((REPO / "workflow" / "envs" / "platefocus.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    out = {}
    for spec in pip:
        name, version = spec.split("==")
        out[normalise(name)] = version
    return env, out


def test_every_env_package_is_pinned_to_the_constraints_version():
    pins = pinned()
    _, packages = env_packages()
    for name, version in packages.items():
        assert name in pins, f"{name} is in workflow/envs/platefocus.yaml but not pinned"
        assert pins[name].split("+")[0] == version, f"{name}: env {version}, pin {pins[name]}"


def test_every_runtime_dependency_is_in_the_env():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["train"]
    env, packages = env_packages()
    for spec in wanted:
        name = normalise(re.split(r"[<>=\[ ;]", spec)[0])
        if name.startswith("snakemake"):  # runs the workflow (and submits to SLURM) from
            continue  # the host environment; not needed inside the job env
        assert name in packages, f"{name} (pyproject) is missing from workflow/envs/platefocus.yaml"
    assert "python=3.11" in env["dependencies"]


def test_torch_is_pinned_to_the_local_cpu_wheel_version():
    assert pinned()["torch"] == "2.13.0"


def test_the_optional_extras_bring_no_other_torch_and_no_torchvision(tmp_path):
    """The resolved set of ``pip install --dry-run .[cellpose,onnx,openvino]`` (every
    package, as on a fresh machine): torch stays the pinned CPU wheel, torchvision is not
    in it."""
    import json
    import subprocess
    import sys

    report = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
            "--quiet", "--report", str(report), "-c", "requirements/constraints.txt",
            ".[cellpose,onnx,openvino]",
        ],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    resolved = {
        normalise(item["metadata"]["name"]): item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    assert resolved["cellpose"].startswith("3.")
    assert {"onnxruntime", "onnxscript", "openvino"} <= set(resolved)
    assert resolved["torch"].split("+")[0] == pinned()["torch"]
    assert "torchvision" not in resolved and "segment-anything" not in resolved
