"""The documentation: a short README without development history, a site that builds
with ``mkdocs build --strict``, and a configuration reference that covers every key."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

#: Words of a measurement log, not of a user's manual.
HISTORY = re.compile(
    r"this session|last session|later session|earlier|rerun later|previously|used to "
    r"|was tried|we tried|no longer|\(was |dropped|for now|at first",
    re.IGNORECASE,
)


def _hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", REPO / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_is_short_and_has_no_development_history():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    found = [
        f"{page.relative_to(REPO)}: {m.group(0)}"
        for page in pages
        for m in HISTORY.finditer(page.read_text())
    ]
    assert not found, found
    assert "make demo" in text and "make test" in text


def test_configuration_reference_covers_every_schema_key():
    hooks = _hooks()
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    keys = [key for key, _ in hooks.schema_keys(schema)]
    page = hooks.configuration_reference()
    listed = re.findall(r"^\| `([\w.]+)` \|", page, flags=re.M)
    sections = re.findall(r"^## `(\w+)`", page, flags=re.M)
    assert sorted(listed + [s for s in sections if s not in listed]) == sorted(keys)
    assert len(keys) > 120
    for key, node in hooks.schema_keys(schema):
        assert node.get("description"), f"{key}: no description in the schema"


def test_cli_reference_lists_every_argument():
    from platefocus.cli import build_parser

    page = _hooks().cli_reference()
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for name, command in commands.items():
        assert f"## `platefocus {name}`" in page
        for action in command._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert f"`{flag}`" in page, (name, flag)


def test_site_builds_strict(tmp_path):
    """A broken link, a missing page or a page left out of the navigation fails."""
    out = subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    assert (tmp_path / "site" / "reference" / "configuration" / "index.html").exists()
    page = (tmp_path / "site" / "reference" / "configuration" / "index.html").read_text()
    assert "restore.skip_within_um" in page
