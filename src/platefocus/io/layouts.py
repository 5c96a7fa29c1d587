"""File layouts by name: how acquisition systems name the planes of a plate.

Each layout is a regular expression for :mod:`platefocus.io.discover` (matched against a
file's path relative to the plate folder) and the files to skip. Named groups: ``well``
(or ``row`` and ``column``), ``site``, ``channel``, ``z`` and ``plate``. A group that is
in the pattern but not in a file name takes its default (site 1, channel 1, z 0); a
group that is not in the pattern at all is read from the file (a stack's Z and C axes).
The schemes follow the vendors' published naming:

``bbbc006``
    ``..._z_NN/<plate>_<well>_s<site>_w<channel><uid>.tif`` (BBBC006 and the synthetic
    plate of platefocus; one folder per plane).
``imagexpress``
    Molecular Devices MetaXpress: ``.../ZStep_<z>/<plate>_<well>_s<site>_w<channel><GUID>.tif``;
    ``_s`` and ``_w`` are left out for single-site or single-wavelength acquisitions;
    ``_thumb`` files are thumbnails.
``operetta``
    PerkinElmer/Revvity Harmony export:
    ``r<row>c<column>f<field>p<plane>-ch<channel>sk<n>fk<n>fl<n>.tiff``, row and column
    as numbers (``r02c03`` is well B03).
``cellvoyager``
    Yokogawa CellVoyager (CV7000/CV8000):
    ``<plate>_<well>_T<time>F<field>L<line>A<action>Z<plane>C<channel>.tif``.
``scenes``
    Files that each hold many fields as scenes (positions): Nikon ND2, Zeiss CZI, Leica LIF,
    OME-TIFF of several image series. Each scene is a field; its well and site come from
    the file's OME plate metadata or the scene's name (:mod:`platefocus.io.scenes`).
``ome-zarr``
    ``input.root`` is an OME-Zarr HCS plate, validated and used in place
    (:mod:`platefocus.io.plate_input`).
``custom``
    ``input.pattern`` as given.
"""

from __future__ import annotations

from dataclasses import dataclass

#: A well name in a file name: rows A-P (96 and 384 wells) and, on a 1536-well plate,
#: rows A-AF; columns of two digits (01-48).
WELL_NAME = r"(?:[A-Za-z]|[Aa][A-Fa-f])\d{2}"
#: The BBBC006 file names: ``..._z_NN/<plate>_<well>_s<site>_w<channel>...tif``.
BBBC006_PATTERN = (
    rf"_z_(?P<z>\d+)/(?P<plate>[^/]+)_(?P<well>{WELL_NAME})_s(?P<site>\d+)"
    r"_w(?P<channel>\d)[^/]*\.tiff?$"
)


@dataclass(frozen=True)
class Layout:
    """A named file layout: the discovery pattern and relative paths to skip."""

    pattern: str
    ignore: tuple[str, ...] = ()
    #: Each file holds many fields (scenes): wells and sites come from the file, not its name.
    scenes: bool = False


LAYOUTS: dict[str, Layout] = {
    "bbbc006": Layout(BBBC006_PATTERN),
    "imagexpress": Layout(
        rf"(?:^|/)ZStep_(?P<z>\d+)/(?P<plate>[^/]+?)_(?P<well>{WELL_NAME})"
        r"(?:_s(?P<site>\d+))?(?:_w(?P<channel>\d))?(?!_thumb)[0-9A-Fa-f-]*\.tiff?$",
        ignore=(r"_thumb",),
    ),
    "operetta": Layout(
        r"(?:^|/)r(?P<row>\d{2})c(?P<column>\d{2})f(?P<site>\d{2})p(?P<z>\d{2})"
        r"-ch(?P<channel>\d+)sk\d+fk\d+fl\d+\.tiff?$"
    ),
    "cellvoyager": Layout(
        rf"(?:^|/)(?P<plate>[^/]+)_(?P<well>{WELL_NAME})_T\d{{4}}F(?P<site>\d{{3}})L\d{{2}}A\d{{2}}"
        r"Z(?P<z>\d{2})C(?P<channel>\d{2})\.tiff?$"
    ),
    "scenes": Layout(r"(?i)\.(?:ome\.tiff?|nd2|czi|lif)$", scenes=True),
}
#: Suffixes of the files the ``scenes`` layout reads (besides ``input.extensions``).
SCENE_SUFFIXES = (".ome.tif", ".ome.tiff", ".nd2", ".czi", ".lif")
#: Every layout name ``input.layout`` accepts.
LAYOUT_NAMES = (*LAYOUTS, "ome-zarr", "custom")
#: The layout whose root is an existing OME-Zarr plate (no file names to match).
OME_ZARR = "ome-zarr"
