"""Image files as microscopes write them: what a file holds (header only) and its planes.

TIFF (classic and BigTIFF, any compression that ``imagecodecs`` decodes: LZW, Deflate,
ZSTD, PackBits, JPEG...) is read with ``tifffile``. A file is either one 2D plane or a
multi-page stack of one field whose axes come from its OME-XML or ImageJ metadata
(``ZYX``, ``CYX``, ``CZYX``, ``ZCYX``...); a multi-page file without such metadata is an
error, never a guess (its pages could be planes, channels or time points).

Vendor formats (Nikon ND2, Zeiss CZI, Leica LIF...) are read through ``bioio`` and its
plugins, an optional extra (``pip install 'platefocus[formats]'``); a missing plugin is a
one-line error naming what to install. Such a file holds one field and its C and Z axes give
the planes, as for a TIFF stack; a file of several scenes (positions) is an error, unless
the plate is read with the ``scenes`` layout, which reads every scene as a field
(:mod:`platefocus.io.scenes`; an OME-TIFF of several image series too).

A plane is addressed by ``(path, page)``: ``page`` is the index of the plane among the
file's planes (0 for a single-plane file; ``c * Z + z`` for a CZYX stack;
``scene * C * Z + c * Z + z`` in a file of scenes).
"""

from __future__ import annotations

import functools
import os
import re
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace

import numpy as np
import tifffile

from platefocus.errors import InputError

#: Axes a stack file may hold besides the image plane ``YX``.
STACK_AXES = ("C", "Z")
_CODEC_HINT = "install imagecodecs (pip install imagecodecs)"
#: Suffixes read through bioio, and the plugin that reads each.
BIOIO_PLUGINS = {".nd2": "bioio-nd2", ".czi": "bioio-czi", ".lif": "bioio-lif"}
_FORMATS_HINT = "pip install 'platefocus[formats]'"
_UM_PER_UNIT = {"µm": 1.0, "um": 1.0, "micron": 1.0, "micrometer": 1.0, "nm": 1e-3, "mm": 1e3}


@dataclass(frozen=True)
class FileInfo:
    """What one image file holds, from its header.

    Attributes
    ----------
    axes : str
        Axes of the file's image series, e.g. ``"YX"``, ``"ZYX"``, ``"CZYX"``.
    shape : tuple of int
        Size of each axis.
    dtype : numpy dtype
    compression : str
        TIFF compression scheme (``"NONE"``, ``"LZW"``, ``"ADOBE_DEFLATE"``...).
    pixel_size_um, z_step_um : float or None
        Sampling from OME-XML or ImageJ metadata, micrometres; None when not stated.
    scenes : int
        Fields the file holds (1 unless read with the ``scenes`` layout); each has the
        same axes and shape.
    """

    axes: str
    shape: tuple[int, ...]
    dtype: np.dtype
    compression: str
    pixel_size_um: float | None = None
    z_step_um: float | None = None
    scenes: int = 1

    @property
    def plane_shape(self) -> tuple[int, int]:
        return self.shape[-2], self.shape[-1]

    def size(self, axis: str) -> int:
        """Length of ``axis`` (1 when the file does not have it)."""
        return self.shape[self.axes.index(axis)] if axis in self.axes else 1

    def page(self, channel_index: int, z_index: int, scene: int = 0) -> int:
        """Page of the plane at ``channel_index`` and ``z_index`` (0-based) of ``scene``."""
        position = {"C": channel_index, "Z": z_index}
        stack_axes = self.axes[:-2]
        in_scene = int(
            np.ravel_multi_index(
                [position[a] for a in stack_axes], [self.size(a) for a in stack_axes]
            )
            if stack_axes
            else 0
        )
        return scene * self.size("C") * self.size("Z") + in_scene


def _decode_error(path: str | os.PathLike, err: Exception) -> InputError:
    """The one-line error for a file tifffile cannot decode; names a missing codec."""
    text = f"{type(err).__name__}: {err}"
    if "imagecodecs" in text:
        scheme = re.search(r"COMPRESSION\.(\w+)", text)
        what = scheme.group(1) if scheme else "this compression"
        return InputError(path, f"cannot decode {what}-compressed TIFF: {_CODEC_HINT}")
    return InputError(path, f"cannot read TIFF ({text})")


def _is_vendor(path: str | os.PathLike) -> bool:
    return os.fspath(path).lower().endswith(tuple(BIOIO_PLUGINS))


def probe_file(path: str | os.PathLike) -> FileInfo:
    """What a file holds, from its header; for a TIFF, checks the pixel data is all there.

    A file of several scenes (a vendor file, or an OME-TIFF of several image series) comes
    back with ``scenes`` set; discovery reads it only with the ``scenes`` layout."""
    if _is_vendor(path):
        return _bioio_probe(path)
    try:
        with tifffile.TiffFile(path) as tif:
            if len(tif.series) > 1 and tif.is_ome:
                return _bioio_probe(path)
            if len(tif.series) > 1:
                shapes = ", ".join(str(tuple(s.shape)) for s in tif.series[:4])
                raise InputError(
                    path,
                    f"holds {len(tif.series)} image series ({shapes}); one image per file is "
                    "read (a plane, or a stack whose axes OME-XML or ImageJ metadata name): "
                    "split the file, write the stack as one series, or, when each series is "
                    "a field, read the plate with input.layout: scenes",
                )
            series = tif.series[0]
            axes, shape = _series_axes(series)
            _check_pages_complete(path, series)
            info = FileInfo(
                axes=axes,
                shape=shape,
                dtype=np.dtype(series.dtype),
                compression=tif.pages.first.compression.name,
                **_sampling(tif),
            )
    except InputError:
        raise
    except Exception as err:  # tifffile raises many types for corrupt files
        raise _decode_error(path, err) from None
    extra = [a for a in info.axes[:-2] if a not in STACK_AXES]
    if extra or info.axes[-2:] != "YX":
        raise InputError(
            path,
            f"holds an image of axes {info.axes!r} and shape {info.shape}: a plane (YX) or "
            "a stack with Z/C axes named in OME-XML or ImageJ metadata is expected "
            "(pages without axis metadata could be planes, channels or time points)",
        )
    return info


def _series_axes(series) -> tuple[str, tuple[int, ...]]:
    """The series' axes and shape, without length-1 axes other than Y and X."""
    axes, shape = series.axes.replace("S", ""), tuple(series.shape)
    if "S" in series.axes:  # samples per pixel (RGB): not a fluorescence plane
        return series.axes, shape
    kept = [(a, n) for a, n in zip(axes, shape, strict=True) if n > 1 or a in "YX"]
    return "".join(a for a, _ in kept), tuple(n for _, n in kept)


def _check_pages_complete(path: str | os.PathLike, series) -> None:
    """Raise for pixel data that runs past the end of the file or is short (truncated)."""
    size = os.path.getsize(path)
    pages = series.pages
    for page in (pages[0], pages[len(pages) - 1]):
        if page is None:
            continue
        expected = int(np.prod(page.shape)) * np.dtype(series.dtype).itemsize
        if page.compression == 1 and sum(page.databytecounts) < expected:
            raise ValueError(f"file holds {sum(page.databytecounts)} of {expected} pixel bytes")
        end = max(o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=True))
        if end > size:
            raise ValueError("pixel data runs past the end of the file (truncated)")


def _sampling(tif: tifffile.TiffFile) -> dict:
    """``pixel_size_um`` and ``z_step_um`` from OME-XML or ImageJ metadata, when stated."""
    if tif.is_ome and tif.ome_metadata:
        pixels = ET.fromstring(tif.ome_metadata).find(".//{*}Pixels")
        if pixels is not None:
            return {
                "pixel_size_um": _ome_length(pixels, "PhysicalSizeX"),
                "z_step_um": _ome_length(pixels, "PhysicalSizeZ"),
            }
    meta = tif.imagej_metadata
    if meta:
        unit = _UM_PER_UNIT.get(str(meta.get("unit", "")).replace("\\u00B5", "µ"))
        res = tif.pages.first.tags.get("XResolution")
        size = None
        if unit and res and res.value[0]:
            size = unit * res.value[1] / res.value[0]
        spacing = meta.get("spacing")
        return {
            "pixel_size_um": size,
            "z_step_um": unit * float(spacing) if unit and spacing else None,
        }
    return {}


def _ome_length(pixels: ET.Element, name: str) -> float | None:
    value = pixels.get(name)
    if value is None:
        return None
    unit = pixels.get(f"{name}Unit", "µm")
    return float(value) * _UM_PER_UNIT.get(unit, 1.0)


def read_plane(path: str | os.PathLike, page: int = 0, maxworkers: int | None = None) -> np.ndarray:
    """Read one 2D plane (page ``page`` of the file) with a clear error for anything else.

    ``maxworkers``: threads tifffile may use to decode the plane's strips or tiles (None:
    its default, several). Callers that already read files on several threads pass 1,
    so threads are not started inside threads.

    Returns
    -------
    plane : (Y, X) ndarray in the file's dtype
    """
    if _is_vendor(path):
        return _bioio_plane(path, page)
    try:
        with tifffile.TiffFile(path) as tif:
            if len(tif.series) > 1:  # admitted only by the scenes layout: one field each
                return _bioio_plane(path, page)
            n_pages = len(tif.series[0].pages)
            if page >= n_pages:
                raise InputError(path, f"has {n_pages} page(s), plane {page} was asked for")
            plane = (
                tif.asarray(series=0, key=page, maxworkers=maxworkers)
                if n_pages > 1
                else tif.series[0].asarray(maxworkers=maxworkers)
            )
    except InputError:
        raise
    except Exception as err:
        raise _decode_error(path, err) from None
    plane = np.squeeze(plane) if plane.ndim > 2 else plane
    if plane.ndim != 2:
        raise InputError(path, f"expected one 2D plane, got an array of shape {plane.shape}")
    return plane


def _bioio_image(path: str | os.PathLike):
    """A ``bioio.BioImage``, or a one-line error naming the package or plugin to install."""
    return _open_bioio(*_file_key(path))


def _file_key(path: str | os.PathLike) -> tuple[str, int, int]:
    try:
        info = os.stat(path)
    except OSError:
        raise InputError(path, "no such file") from None
    return os.fspath(path), info.st_size, info.st_mtime_ns


#: bioio readers keep a scene selected: planes are read under this lock.
_BIOIO_LOCK = threading.Lock()


@functools.lru_cache(maxsize=8)
def _open_bioio(path: str, _size: int, _mtime_ns: int):
    """The file opened once per process and version (its metadata is parsed once)."""
    plugin = BIOIO_PLUGINS.get(os.path.splitext(path)[1].lower(), "a bioio plugin")
    try:
        from bioio import BioImage
    except ImportError:
        raise InputError(
            path, f"reading this format needs bioio and {plugin}: {_FORMATS_HINT}"
        ) from None
    try:
        return BioImage(path)
    except Exception as err:
        if type(err).__name__ == "UnsupportedFileFormatError":
            raise InputError(
                path, f"no bioio plugin reads this file: install {plugin} ({_FORMATS_HINT})"
            ) from None
        raise InputError(path, f"cannot read ({type(err).__name__}: {err})") from None


def probe_scenes(path: str | os.PathLike) -> tuple[FileInfo, list]:
    """What a file of scenes holds: the axes of one scene (``scenes`` set to their count)
    and the field of each scene (:func:`platefocus.io.scenes.scene_fields`)."""
    from platefocus.io.scenes import scene_fields

    image = _bioio_image(path)
    info = _bioio_probe(path)
    with _BIOIO_LOCK:
        fields = scene_fields(path, image)
    return info, fields


def _bioio_probe(path: str | os.PathLike) -> FileInfo:
    """The axes of a file read through bioio; a file of scenes comes back with ``scenes``
    set (every scene must hold the same channels and planes)."""
    image = _bioio_image(path)
    with _BIOIO_LOCK:
        infos = []
        for i in range(len(image.scenes)):
            image.set_scene(i)
            infos.append(_bioio_info(path, image))
        image.set_scene(0)
    differ = [
        i
        for i, info in enumerate(infos)
        if (info.axes, info.shape) != (infos[0].axes, infos[0].shape)
    ]
    if differ:
        raise InputError(
            path,
            f"scene {differ[0]} holds {infos[differ[0]].shape} ({infos[differ[0]].axes}), "
            f"scene 0 {infos[0].shape} ({infos[0].axes}): every scene must hold the same "
            "channels and planes",
        )
    return replace(infos[0], scenes=len(infos))


def _bioio_info(path, image) -> FileInfo:
    dims = image.dims
    if dims.T > 1:
        raise InputError(path, f"holds {dims.T} time points; one is expected")
    sizes = {"C": dims.C, "Z": dims.Z}
    axes = "".join(a for a in "CZ" if sizes[a] > 1) + "YX"
    shape = (*(sizes[a] for a in axes[:-2]), dims.Y, dims.X)
    physical = image.physical_pixel_sizes
    return FileInfo(
        axes=axes,
        shape=shape,
        dtype=np.dtype(image.dtype),
        compression=type(image.reader).__module__.split(".")[0],
        pixel_size_um=physical.X,
        z_step_um=physical.Z,
    )


def _bioio_plane(path: str | os.PathLike, page: int) -> np.ndarray:
    image = _bioio_image(path)
    with _BIOIO_LOCK:
        image.set_scene(0)
        dims = image.dims
        per_scene = dims.C * dims.Z
        scene, rest = divmod(int(page), per_scene)
        if scene >= len(image.scenes):
            raise InputError(
                path,
                f"has {per_scene * len(image.scenes)} plane(s), plane {page} was asked for",
            )
        image.set_scene(scene)
        c, z = divmod(rest, dims.Z)
        return np.asarray(image.get_image_data("YX", T=0, C=c, Z=z))
