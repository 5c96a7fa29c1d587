"""One default per setting: the workflow's schema (``workflow/schemas/``) is the source;
the settings dataclasses and the command line must not say otherwise."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def schema_defaults() -> dict[str, object]:
    """``section.key`` -> default, for every leaf of the schema that has one."""
    found = {}

    def walk(node: dict, path: list[str]) -> None:
        if path and "default" in node:
            found[".".join(path)] = node["default"]
        for key, child in node.get("properties", {}).items():
            walk(child, [*path, key])

    walk(yaml.safe_load(SCHEMA.read_text()), [])
    return found


def _same(a, b) -> bool:
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _dataclasses():
    from platefocus.dataset.pairs import DatasetConfig
    from platefocus.focus.bestplane import BestPlaneConfig
    from platefocus.focus.targets import TargetConfig
    from platefocus.io.discover import DiscoveryConfig
    from platefocus.restore.planes import PlaneSelection
    from platefocus.restore.settings import RestoreConfig
    from platefocus.segment.nuclei import SegmentationConfig
    from platefocus.train.loop import TrainConfig

    return {
        "focus": BestPlaneConfig,
        "targets": TargetConfig,
        "segmentation": SegmentationConfig,
        "dataset": DatasetConfig,
        "training": TrainConfig,
        "restore": RestoreConfig,
        "restore.planes": PlaneSelection,
        "input": DiscoveryConfig,
    }


def _field_default(field: dataclasses.Field):
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


# Where a dataclass field of the same name means something else than the schema key,
# so that comparing defaults would be wrong; each with the reason.
NOT_THE_SAME_SETTING = {
    "segmentation.diameter_px": "None in the dataclass is 'estimate', the schema spells it auto",
}


def test_every_dataclass_default_is_the_schema_default():
    defaults = schema_defaults()
    wrong, compared = [], 0
    for section, cls in _dataclasses().items():
        for field in dataclasses.fields(cls):
            key = f"{section}.{field.name}"
            if key not in defaults or key in NOT_THE_SAME_SETTING:
                continue
            value = _field_default(field)
            if value is dataclasses.MISSING:
                continue
            compared += 1
            if not _same(value, defaults[key]):
                wrong.append(f"{key}: schema {defaults[key]!r}, {cls.__name__} {value!r}")
    assert compared >= 40  # the walk reaches the settings
    assert not wrong, "\n".join(wrong)


# Which schema section each command's arguments belong to.
COMMAND_SECTIONS = {
    "ingest": ("input", "ingest", "acquisition"),
    "inspect": ("input",),
    "restore": ("restore",),
}


def test_every_cli_default_is_the_schema_default():
    from platefocus.cli import build_parser

    defaults = schema_defaults()
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    wrong, compared = [], 0
    for name, sections in COMMAND_SECTIONS.items():
        for action in commands[name]._actions:
            for section in sections:
                key = f"{section}.{action.dest}"
                if key in defaults and action.default is not None:
                    compared += 1
                    if not _same(action.default, defaults[key]):
                        wrong.append(
                            f"platefocus {name} {action.option_strings[0]}: "
                            f"{action.default!r}, schema {key} {defaults[key]!r}"
                        )
    assert compared >= 5
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("key", sorted(NOT_THE_SAME_SETTING))
def test_exceptions_name_real_keys(key):
    assert key in schema_defaults()
