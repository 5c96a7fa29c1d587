"""Find the planes of a plate on disk from a folder and a regular expression.

The pattern is matched (``re.search``) against each file's path relative to the root,
with ``/`` separators. Named groups: ``well`` and ``site`` (required), ``channel``, ``z``
and ``plate`` (optional). Anything else in the name, such as BBBC006's per-plane UID,
is ignored, so planes are joined on plate, well, site and channel.

A file whose name gives both ``channel`` and ``z`` is one plane. Otherwise the file is a
stack of one field, and its header says which planes it holds (see
:mod:`platefocus.io.readers`): its Z axis gives the planes and its C axis the channels
(``w1``, ``w2``... in file order) unless the name gives them. With the ``scenes`` layout
every file holds many fields, whose wells and sites the file says
(:mod:`platefocus.io.scenes`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from platefocus.errors import InputError
from platefocus.io.layouts import LAYOUT_NAMES, LAYOUTS, SCENE_SUFFIXES

REQUIRED_GROUPS = ("site",)
#: Value of a group that is in the pattern but absent from a file name.
GROUP_DEFAULTS = {"site": 1, "channel": 1, "z": 0}
#: File names of the BBBC006 layout (and of the synthetic plate):
#: ``..._z_NN/<plate>_<well>_s<site>_w<channel><anything>.tif``.
MANIFEST_COLUMNS = [
    "plate",
    "well",
    "row",
    "column",
    "site",
    "channel",
    "z",
    "path",
    "page",
]

_WELL = re.compile(r"^([A-Za-z]{1,2})0*(\d{1,3})$")


@dataclass(frozen=True)
class DiscoveryConfig:
    """Where a plate's files are and how their names are read.

    Attributes
    ----------
    root : Path
        Folder holding the plate (searched recursively).
    pattern : str
        Regular expression with the named groups listed in the module docstring.
    extensions : tuple of str
        File suffixes considered image planes (case-insensitive).
    ignore : tuple of str
        Regular expressions of relative paths to skip silently (thumbnails, sidecars).
    plate : str or None
        Plate name to use when the pattern has no ``plate`` group, or to select one plate
        from a root that holds several.
    """

    root: Path
    pattern: str | None = None
    extensions: tuple[str, ...] = (".tif", ".tiff")
    ignore: tuple[str, ...] = field(default_factory=lambda: (r"(^|/)\.",))
    plate: str | None = None
    layout: str = "custom"

    def __post_init__(self) -> None:

        if self.layout not in LAYOUT_NAMES:
            raise InputError("input.layout", f"must be one of {LAYOUT_NAMES}, got {self.layout!r}")
        if self.layout == "ome-zarr":
            if self.pattern:
                raise InputError("input.pattern", "not used with input.layout: ome-zarr")
            return
        if self.layout == "custom":
            if not self.pattern:
                raise InputError("input.pattern", "required with input.layout: custom")
            return
        if self.pattern:
            raise InputError(
                "input.pattern",
                f"given with input.layout {self.layout}: set input.layout: custom to use a "
                "pattern of your own (the default config names the bbbc006 layout)",
            )
        named = LAYOUTS[self.layout]
        object.__setattr__(self, "pattern", named.pattern)
        object.__setattr__(self, "ignore", (*self.ignore, *named.ignore))

    @classmethod
    def from_config(cls, input_section: dict, plate: str | None) -> DiscoveryConfig:
        """The workflow's ``input`` section, for plate ``plate`` (keys left out keep the
        defaults of this class)."""
        optional = {
            k: tuple(input_section[k]) if k in ("extensions", "ignore") else input_section[k]
            for k in ("pattern", "extensions", "ignore", "layout")
            if input_section.get(k) is not None
        }
        return cls(root=plate_root(input_section["root"], plate), plate=plate, **optional)


def plate_root(root: str | os.PathLike, plate: str | None) -> Path:
    """``input.root`` for ``plate``: ``{plate}`` in it stands for the plate's name."""
    root = os.fspath(root)
    if "{plate}" in root and plate is not None:
        root = root.replace("{plate}", plate)
    return Path(root)


def parse_well(name: str) -> tuple[str, int]:
    """Split a well name such as ``a01``, ``B7`` or ``AF48`` into (row letters, column).

    The row comes back upper-case; raises ``ValueError`` for anything else.
    """
    m = _WELL.match(name)
    if not m:
        raise ValueError(f"not a well name: {name!r}")
    return m.group(1).upper(), int(m.group(2))


def compile_pattern(pattern: str, where: str = "input.pattern") -> re.Pattern:
    """Compile a discovery pattern, checking that it names the required groups."""
    try:
        regex = re.compile(pattern)
    except re.error as err:
        raise InputError(where, f"not a valid regular expression: {err}") from None
    missing = [g for g in REQUIRED_GROUPS if g not in regex.groupindex]
    if "well" not in regex.groupindex and not {"row", "column"} <= set(regex.groupindex):
        missing.insert(0, "well (or row and column)")
    if missing:
        raise InputError(where, f"pattern lacks the named group(s) {missing}")
    return regex


def discover_planes(cfg: DiscoveryConfig) -> pd.DataFrame:
    """List the image planes of a plate, one row per file.

    Returns
    -------
    manifest : DataFrame
        Columns ``plate, well, row, column, site, channel, z, path`` sorted by
        ``plate, row, column, site, channel, z``. ``well`` is normalised to
        ``<ROW><column:02d>`` (``A01``); ``path`` joins the root and the file (relative if the root
        is, so manifests do not depend on the run folder).

    Raises
    ------
    InputError
        The root is missing or holds no image files; a file name does not match the
        pattern; two files claim the same plane; a well name cannot be read.
    """
    root = Path(cfg.root)
    scenes = cfg.layout in LAYOUTS and LAYOUTS[cfg.layout].scenes
    regex = re.compile(cfg.pattern) if scenes else compile_pattern(cfg.pattern)
    if not root.is_dir():
        raise InputError(root, "input folder does not exist")
    rows = []
    for path in list_image_files(cfg):
        m = regex.search(path.relative_to(root).as_posix())
        if m is None and scenes:
            continue  # a TIFF of one plane beside the files of scenes: not one of them
        if m is None:
            raise InputError(path, f"file name does not match input.pattern {cfg.pattern!r}")
        rows += _scene_rows(path, cfg.plate) if scenes else _rows_from_match(m, path, cfg.plate)
    if not rows:
        exts = ", ".join(cfg.extensions)
        raise InputError(root, f"no image files ({exts}) found in the input folder")
    manifest = pd.DataFrame(rows, columns=MANIFEST_COLUMNS)
    if cfg.plate is not None:
        manifest = manifest[manifest["plate"] == cfg.plate]
        if manifest.empty:
            raise InputError(root, f"no files of plate {cfg.plate!r} in the input folder")
    key = ["plate", "well", "site", "channel", "z"]
    dup = manifest[manifest.duplicated(key, keep=False)]
    if not dup.empty:
        first = dup.sort_values(key).head(2)["path"].tolist()
        raise InputError(first[1], f"claims the same plane as {first[0]}")
    return manifest.sort_values(
        ["plate", "row", "column", "site", "channel", "z"], kind="stable"
    ).reset_index(drop=True)


def list_image_files(cfg: DiscoveryConfig) -> list[Path]:
    """The image files under the root (by extension; ignored paths left out), in a stable
    order; empty when the root is not a folder."""
    root = Path(cfg.root)
    ignore = [re.compile(p) for p in cfg.ignore]
    suffixes = tuple(e.lower() for e in cfg.extensions)
    if cfg.layout in LAYOUTS and LAYOUTS[cfg.layout].scenes:
        suffixes += SCENE_SUFFIXES
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if name.lower().endswith(suffixes) and not any(p.search(rel) for p in ignore):
                files.append(path)
    return files


def _rows_from_match(m: re.Match, path: Path, default_plate: str | None) -> list[dict]:
    """The manifest rows of one file: one plane, or every plane of a stack file."""
    groups = m.groupdict()
    try:
        row, column = parse_well(groups.get("well") or _numbered_well(groups))
    except ValueError as err:
        raise InputError(path, str(err)) from None

    def value(key: str) -> int:
        return int(groups[key]) if groups[key] is not None else GROUP_DEFAULTS[key]

    field = dict(
        plate=groups.get("plate") or default_plate or "plate",
        well=f"{row}{column:02d}",
        row=row,
        column=column,
        site=value("site"),
    )
    named = {k: value(k) for k in ("channel", "z") if k in groups}
    if len(named) == 2:
        return [dict(field, **named, path=str(path), page=0)]
    return [dict(field, **plane, path=str(path)) for plane in _stack_planes(path, named)]


def _scene_rows(path: Path, plate: str | None) -> list[dict]:
    """The manifest rows of a file of scenes: every plane of every scene (each a field)."""
    from platefocus.io.readers import probe_scenes

    info, fields = probe_scenes(path)
    rows = []
    for scene in fields:
        row, column = parse_well(scene.well)
        for c in range(info.size("C")):
            for z in range(info.size("Z")):
                rows.append(
                    dict(
                        plate=plate or "plate",
                        well=f"{row}{column:02d}",
                        row=row,
                        column=column,
                        site=scene.site,
                        channel=c + 1,
                        z=z,
                        path=str(path),
                        page=info.page(c, z, scene.scene),
                    )
                )
    return rows


def _numbered_well(groups: dict) -> str:
    """A well name from ``row`` (letters, or a number: 1 is A) and ``column`` groups."""
    row = groups["row"]
    if row.isdigit():
        n = int(row)
        if n < 1:
            raise ValueError(f"row number must be >= 1, got {row!r}")
        row = chr(ord("A") + n - 1) if n <= 26 else "A" + chr(ord("A") + n - 27)
    return f"{row}{int(groups['column'])}"


def _stack_planes(path: Path, named: dict[str, int]) -> list[dict]:
    """``channel``, ``z`` and ``page`` of every plane a stack file holds."""
    from platefocus.io.readers import probe_file

    info = probe_file(path)
    if info.scenes > 1:
        raise InputError(
            path,
            f"holds {info.scenes} scenes (positions); one field per file is read unless the "
            "plate is read with input.layout: scenes (each scene a field)",
        )
    for key, axis in (("channel", "C"), ("z", "Z")):
        if key in named and info.size(axis) > 1:
            raise InputError(
                path, f"the name gives {key} {named[key]} but the file holds {info.size(axis)}"
            )
    return [
        dict(
            channel=named.get("channel", c + 1),
            z=named.get("z", z),
            page=info.page(c, z),
        )
        for c in range(info.size("C"))
        for z in range(info.size("Z"))
    ]
