"""BioImage Model Zoo packages (``bioimageio.spec`` 0.5): what platefocus puts in them, and
reading one back (:mod:`platefocus.train.export` writes them; platefocus reads them through
:func:`platefocus.model_io.load_model`).

A package holds the network's weights as a PyTorch state dict whose architecture is
imported from platefocus (``from platefocus.models import build_model``), so any tool that
runs bioimage.io models (``bioimageio.core``, and through it napari or ilastik) can run it
where platefocus is installed. No TorchScript: the networks pad their input to a multiple
of their downsampling factor in Python, and a trace would freeze that to one tile size.

Tensors, axes ``(batch, channel, y, x)``:

- input ``raw``: one plane, intensities in camera units (ADU), float32; preprocessing
  ``scale_range`` maps the plane's own low / high percentiles (the checkpoint's) to 0 / 1,
  exactly as platefocus normalises planes.
- output ``restored``: the in-focus estimate on that normalised scale. The inverse,
  ``restored * (hi - lo) + lo`` with ``lo, hi`` the input plane's percentiles, has no
  bioimage.io postprocessing step (``scale_range`` only maps forwards), so it is stated in
  the package's documentation and ``config.platefocus`` and applied by platefocus when it
  restores with the package.

The checkpoint's metadata (architecture, dataset, training settings, epoch) travel in
``config.platefocus`` (:meth:`platefocus.model_io.ModelInfo.package_config`); reading a
package gives back the same metadata as a checkpoint, so restoring with it is the same code.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import torch

from platefocus.dataset.normalise import DEFAULT_PERCENTILES
from platefocus.errors import InputError

#: The tensors' names in the package, and the axes both have.
INPUT_ID, OUTPUT_ID = "raw", "restored"
AXES = ("batch", "channel", "y", "x")
#: How closely ``bioimageio test`` must reproduce the test output (normalised units).
TOLERANCE = {"relative_tolerance": 1e-3, "absolute_tolerance": 1e-3}
#: What the restored output means, for people and for the check on import.
INVERSE = "restored * (hi - lo) + lo, with lo, hi the input plane's percentiles"


def is_package(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a bioimage.io package (a .zip, or a folder with ``rdf.yaml``)."""
    path = Path(path)
    return path.suffix.lower() == ".zip" or (path / "rdf.yaml").is_file()


def read_package(path: str | os.PathLike, device: str = "cpu") -> dict:
    """A package's metadata and weights in a checkpoint's layout, after checking
    that it is one platefocus can restore with; one-line :class:`InputError` otherwise."""
    descr = _load_description(path)
    platefocus = (descr.config.model_extra or {}).get("platefocus")
    if not isinstance(platefocus, dict) or "model" not in platefocus:
        raise InputError(path, "not a platefocus package (no config.platefocus)")
    _check_tensors(path, descr, platefocus)
    weights = descr.weights.pytorch_state_dict
    if weights is None:
        raise InputError(path, "package has no pytorch_state_dict weights")
    try:
        model_state = _load_weights(weights.source, device)
    except Exception as err:  # missing or unreadable file inside the package
        raise InputError(path, f"cannot read the weights ({type(err).__name__}: {err})") from None
    return {**platefocus, "model_state": model_state}


def _load_description(path):
    from bioimageio.spec import InvalidDescr, load_model_description
    from bioimageio.spec._internal.validation_context import ValidationContext

    if not Path(path).exists():
        raise InputError(path, "no such model package")
    if Path(path).suffix.lower() == ".zip" and not zipfile.is_zipfile(path):
        raise InputError(path, "not a zip archive")
    _check_weight_files(path)
    try:
        with ValidationContext(perform_io_checks=True):
            descr = load_model_description(Path(path))
    except Exception as err:
        raise InputError(
            path, f"cannot read model package ({type(err).__name__}: {_first_reason(err)})"
        ) from None
    if isinstance(descr, InvalidDescr):
        errors = descr.validation_summary.details[0].errors if descr.validation_summary else []
        first = f"{errors[0].loc}: {errors[0].msg}" if errors else "invalid description"
        raise InputError(path, f"invalid bioimage.io model package ({first})")
    return descr


def _first_reason(err: Exception) -> str:
    """The first informative line of a (multi-line) validation error."""
    lines = [line.strip(" -") for line in str(err).splitlines() if line.strip()]
    reasons = [line for line in lines if not line.endswith(":")] or lines or [""]
    return reasons[0][:200]


def _check_weight_files(path) -> None:
    """Every weights file the description names is in the package (bioimage.io's own
    check reports a missing one as an unrelated type error)."""
    import yaml

    if Path(path).suffix.lower() != ".zip":
        return
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if "rdf.yaml" not in names:
            raise InputError(path, "not a bioimage.io package (no rdf.yaml)")
        rdf = yaml.safe_load(archive.read("rdf.yaml")) or {}
    for weights_format, entry in (rdf.get("weights") or {}).items():
        source = (entry or {}).get("source")
        if isinstance(source, str) and "://" not in source and source not in names:
            raise InputError(path, f"missing weights: {weights_format} file {source!r}")


def _check_tensors(path, descr, platefocus: dict) -> None:
    """One input and one output, ``(batch, channel, y, x)``, and the percentile scaling
    platefocus trained with: anything else would restore on another scale."""
    if len(descr.inputs) != 1 or len(descr.outputs) != 1:
        raise InputError(
            path,
            f"expected one input and one output tensor, got {len(descr.inputs)} and "
            f"{len(descr.outputs)}",
        )
    for tensor in (descr.inputs[0], descr.outputs[0]):
        axes = tuple("batch" if a.type == "batch" else str(a.id) for a in tensor.axes)
        if axes != AXES:
            raise InputError(path, f"tensor {tensor.id!s} has axes {axes}, expected {AXES}")
    steps = [p for p in descr.inputs[0].preprocessing if p.id != "ensure_dtype"]
    expected = tuple(platefocus.get("dataset", {}).get("percentiles", DEFAULT_PERCENTILES))
    if len(steps) != 1 or steps[0].id != "scale_range":
        found = [p.id for p in steps]
        raise InputError(
            path, f"preprocessing is {found}, expected scale_range of percentiles {expected}"
        )
    kwargs = steps[0].kwargs
    got = (kwargs.min_percentile, kwargs.max_percentile)
    if not np.allclose(got, expected) or tuple(map(str, kwargs.axes or ())) != ("y", "x"):
        raise InputError(
            path,
            f"preprocessing scale_range uses percentiles {got} over axes "
            f"{tuple(map(str, kwargs.axes or ()))}; the model was trained with {expected} "
            "over ('y', 'x')",
        )


def _load_weights(source, device: str) -> dict:
    from bioimageio.spec.utils import get_reader

    data = io.BytesIO(get_reader(source).read())
    return torch.load(data, map_location=device, weights_only=True)
