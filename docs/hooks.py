"""MkDocs hook: the reference pages generated at build time, never written by hand.

- ``reference/configuration.md``: every key of ``workflow/schemas/config.schema.yaml``
  (meaning, type and allowed values, default), the one source of every setting's default;
- ``reference/cli.md``: every command and argument of ``platefocus`` from its parser.

``tests/test_docs.py`` counts the keys of the generated page against the schema.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def _type_of(node: dict) -> str:
    """The schema's type of a key in words (``integer >= 1``, ``one of: a, b``)."""
    if "enum" in node:
        return "one of: " + ", ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    if "oneOf" in node:
        return " or ".join(_type_of(option) for option in node["oneOf"])
    if "$ref" in node:
        return "`[low, high]`, numbers > 0"
    kind = node.get("type", "object")
    kind = " or ".join(kind) if isinstance(kind, list) else kind
    bounds = [
        f"{sign} {node[key]}"
        for key, sign in (
            ("minimum", ">="),
            ("exclusiveMinimum", ">"),
            ("maximum", "<="),
            ("exclusiveMaximum", "<"),
        )
        if key in node
    ]
    if kind == "array" and isinstance(node.get("items"), dict):
        items = node["items"]
        inner = _type_of(items) if items else "values"
        length = ""
        if node.get("minItems") == node.get("maxItems") and "minItems" in node:
            length = f"{node['minItems']} "
        return f"list of {length}{inner}"
    return kind + (" " + ", ".join(bounds) if bounds else "")


def schema_keys(schema: dict | None = None) -> list[tuple[str, dict]]:
    """``(dotted key, schema node)`` of every key, sections before their keys."""
    schema = schema or yaml.safe_load(SCHEMA.read_text())
    keys: list[tuple[str, dict]] = []

    def walk(node: dict, path: list[str]) -> None:
        if path:
            keys.append((".".join(path), node))
        for key, child in node.get("properties", {}).items():
            walk(child, [*path, key])

    walk(schema, [])
    return keys


def _cell(text: object) -> str:
    """One table cell: one line; pipes and square brackets escaped (a regular expression
    is not a table border or a link); angle brackets shown, not read as HTML."""
    text = " ".join(str(text).split()).replace("|", "\\|")
    parts = text.split("`")  # odd parts are code spans: shown as they are
    for i in range(0, len(parts), 2):
        plain = parts[i].replace("[", "\\[").replace("]", "\\]")
        parts[i] = plain.replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def configuration_reference() -> str:
    """The configuration reference page (Markdown)."""
    schema = yaml.safe_load(SCHEMA.read_text())
    required = set(schema.get("required", []))
    out = [
        "# Configuration reference",
        "",
        "Generated from `workflow/schemas/config.schema.yaml` when the site is built: the "
        "schema is the one source of every setting's default, and the settings dataclasses "
        "and the command line are checked against it (`tests/test_defaults.py`). A key that "
        "is not listed here is an error (misspellings are reported by name).",
        "",
        f"Required sections: {', '.join(f'`{k}`' for k in sorted(required))}.",
        "",
    ]
    section = None
    for key, node in schema_keys(schema):
        top = key.split(".")[0]
        if top != section:
            section = top
            out += ["", f"## `{top}`", "", _cell(node.get("description", "")), ""]
            out += ["| key | meaning | type | default |", "|---|---|---|---|"]
            if "." not in key and "properties" in node:
                continue  # a section: its keys follow
        default = (
            f"`{json.dumps(node['default'])}`"
            if "default" in node
            else "(required)"
            if key.rsplit(".", 1)[-1] in _required_of(schema, key)
            else "(none)"
        )
        out.append(
            f"| `{key}` | {_cell(node.get('description', ''))} | {_cell(_type_of(node))} "
            f"| {_cell(default)} |"
        )
    return "\n".join(out) + "\n"


def _required_of(schema: dict, key: str) -> set[str]:
    node = schema
    for part in key.split(".")[:-1]:
        node = node["properties"][part]
    return set(node.get("required", []))


def cli_reference() -> str:
    """The command-line reference page (Markdown), from :func:`platefocus.cli.build_parser`."""
    from platefocus.cli import build_parser

    parser = build_parser()
    out = [
        "# Command-line reference",
        "",
        "Generated from the parser of `platefocus` when the site is built. The workflow "
        "itself runs with `snakemake --cores N`; these commands do single steps outside it.",
        "",
        "```text",
        parser.format_usage().strip(),
        "```",
        "",
    ]
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        out += [f"## `platefocus {name}`", "", _cell(command.description or ""), ""]
        out += ["| argument | meaning | default |", "|---|---|---|"]
        for action in command._actions:
            if action.dest == "help":
                continue
            flags = ", ".join(f"`{flag}`" for flag in action.option_strings)
            if action.required:
                default = "(required)"
            elif action.default is None or action.default == argparse.SUPPRESS:
                default = ""
            else:
                default = f"`{action.default}`"
            meaning = action.help or ""
            if action.choices:
                meaning += " (one of " + ", ".join(f"`{c}`" for c in action.choices) + ")"
            out.append(f"| {flags} | {_cell(meaning)} | {_cell(default)} |")
        out.append("")
    return "\n".join(out) + "\n"


def on_files(files, config):
    """MkDocs event: add the generated pages to the site."""
    from mkdocs.structure.files import File

    for path, text in (
        ("reference/configuration.md", configuration_reference()),
        ("reference/cli.md", cli_reference()),
    ):
        files.append(File.generated(config, path, content=text))
    return files
