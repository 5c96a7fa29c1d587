"""Files that hold many fields: which well and site each scene (position) of a file is.

Nikon ND2, Zeiss CZI, Leica LIF and OME-TIFF files of a plate usually hold every position
of an acquisition as scenes (bioio's word; OME calls them images, tifffile series). The
``scenes`` layout (:mod:`platefocus.io.layouts`) reads each scene as one field:

1. From the file's OME plate metadata when it has any (``Plate/Well/WellSample``, each
   sample naming its image): the well's row and column, the sample's order in the well as
   the site.
2. Otherwise from each scene's name, which acquisition software sets from the position
   list (``A01``, ``B3 field 2``, ``C05-1``, ``Well D07 #3``): the first well name in it,
   and the scene's order among the scenes of that well as the site.

A scene whose well cannot be told is an error naming the file and the scene, never a guess.
Every scene must hold the same channels and planes (one acquisition protocol per file).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from platefocus.errors import InputError

#: A well name inside a scene name: row letters (A-P, or AA-AF on 1536-well plates) and a
#: column number, not part of a longer word or number ("Position 1" has none).
_WELL_IN_NAME = re.compile(r"(?<![A-Za-z0-9])([A-Pa-p]|[Aa][A-Fa-f])0*(\d{1,2})(?![0-9])")


@dataclass(frozen=True)
class SceneField:
    """One scene of a file: its index in the file and the field it is."""

    scene: int
    well: str
    site: int


def scene_fields(path: str | os.PathLike, image) -> list[SceneField]:
    """Well and site of every scene of ``image`` (a ``bioio.BioImage`` of ``path``)."""
    names = [str(s) for s in image.scenes]
    ome = _ome(image)
    if ome is not None and len(ome.images) == len(names):  # OME scenes are ids; names say more
        names = [im.name or names[i] for i, im in enumerate(ome.images)]
    wells = _plate_wells(path, ome, names)
    if wells is None:
        wells = [_well_in_name(path, i, name) for i, name in enumerate(names)]
    seen: dict[str, int] = {}
    fields = []
    for i, well in enumerate(wells):
        seen[well] = seen.get(well, 0) + 1
        fields.append(SceneField(scene=i, well=well, site=seen[well]))
    return fields


def _well_in_name(path, index: int, name: str) -> str:
    match = _WELL_IN_NAME.search(name)
    if match is None:
        raise InputError(
            path,
            f"scene {index} ({name!r}) names no well: name the positions after their wells "
            "(A01, B3 field 2) or write OME plate metadata",
        )
    return f"{match.group(1).upper()}{int(match.group(2)):02d}"


def _ome(image):
    """The file's OME metadata, or None for readers without it."""
    try:
        return image.ome_metadata
    except Exception:  # readers without OME metadata raise NotImplementedError or others
        return None


def _plate_wells(path, ome, names: list[str]) -> list[str] | None:
    """The well of each scene from OME ``Plate`` metadata, or None when there is none."""
    plates = getattr(ome, "plates", None) or []
    if not plates:
        return None
    image_ids = [im.id for im in ome.images]
    well_of: dict[str, str] = {}
    for plate in plates:
        for well in plate.wells:
            name = _row_name(well.row) + f"{well.column + 1:02d}"
            for sample in well.well_samples:
                if sample.image_ref is not None:
                    well_of[sample.image_ref.id] = name
    if len(image_ids) != len(names):
        return None
    missing = [names[i] for i, iid in enumerate(image_ids) if iid not in well_of]
    if missing:
        raise InputError(
            path,
            f"OME plate metadata places no well sample on image(s) {missing[:3]}",
        )
    return [well_of[iid] for iid in image_ids]


def _row_name(row: int) -> str:
    """Row index (0 is A) to letters: 0-25 A-Z, 26-31 AA-AF."""
    return chr(ord("A") + row) if row < 26 else "A" + chr(ord("A") + row - 26)
