"""Export a checkpoint as a BioImage Model Zoo package (the format is described in
:mod:`platefocus.model_io.package`, which reads packages back)."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from platefocus.dataset.normalise import apply_range, percentile_range
from platefocus.errors import InputError
from platefocus.model_io.checkpoint import load_model
from platefocus.model_io.metadata import ModelInfo, plain
from platefocus.model_io.package import INPUT_ID, INVERSE, OUTPUT_ID, TOLERANCE

#: Papers of the architectures (the package's citations).
CITATIONS = {
    "restormer": ("Zamir et al. (2022) Restormer, CVPR", "10.1109/CVPR52688.2022.00564"),
    "unet": ("Ronneberger et al. (2015) U-Net, MICCAI", "10.1007/978-3-319-24574-4_28"),
}
DEFAULT_CITATION = CITATIONS["unet"]


def export_package(
    checkpoint: str | os.PathLike,
    test_plane: np.ndarray,
    out_path: str | os.PathLike,
    cover: np.ndarray | None = None,
) -> Path:
    """Write a checkpoint as a bioimage.io model package (a .zip).

    Parameters
    ----------
    checkpoint : path
        A platefocus checkpoint (``checkpoint.pt``).
    test_plane : (y, x) array
        A defocused plane (ADU) to ship as the test input; its output is computed here.
    out_path : path
        The package to write (atomically: a temporary sibling, then a rename).
    cover : (y, x, 3) uint8 array, optional
        The cover image; by default the test input beside its output.
    """
    model, info = load_model(checkpoint)
    if info.context_planes:
        raise InputError(
            checkpoint,
            "only single-plane models can be packaged (context_planes 0): bioimage.io "
            "normalises each channel on its own, platefocus a plane and its neighbours together",
        )
    if getattr(model, "takes_offset", False):
        raise InputError(
            checkpoint,
            f"{info.architecture!r} restores with each plane's offset from focus, which a "
            "bioimage.io model's single input cannot carry; package a pair-trained network",
        )
    plane = np.asarray(test_plane, dtype=np.float32)
    if plane.ndim != 2:
        raise ValueError(f"test_plane must be (y, x), got shape {plane.shape}")
    percentiles = info.percentiles
    lo, hi = percentile_range(plane, percentiles)
    with torch.no_grad():
        normed = torch.from_numpy(apply_range(plane, lo, hi).astype(np.float32))
        restored = model(normed[None, None]).numpy()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_path.parent) as tmp:
        work = Path(tmp)
        descr = _describe(info, model, plane, restored, percentiles, cover, work)
        partial = out_path.with_name(out_path.name + ".partial")
        _save(descr, partial)
        os.replace(partial, out_path)
    return out_path


def _describe(info: ModelInfo, model, plane, restored, percentiles, cover, work: Path):
    """The ``ModelDescr`` of a checkpoint, its files written under ``work``."""
    from bioimageio.spec.model import v0_5 as spec

    name = info.architecture
    np.save(work / "test_input.npy", plane[None, None])
    np.save(work / "test_output.npy", restored.astype(np.float32))
    torch.save(model.state_dict(), work / "weights.pt")
    _write_cover(work / "cover.png", plane, restored[0, 0], cover)
    (work / "README.md").write_text(_documentation(info, percentiles))
    cite = [spec.CiteEntry(text=text, doi=spec.Doi(doi)) for text, doi in [_citation(name)]]
    return spec.ModelDescr(
        name=f"platefocus {name} defocus restoration",
        description=(
            f"Restores the in-focus plane from a defocused widefield fluorescence plane "
            f"(platefocus, {name}, trained on plate(s) {list(info.trained_on or ())})."
        ),
        authors=[spec.Author(name="platefocus")],
        cite=cite,
        license=spec.LicenseId("MIT"),
        documentation=spec.FileDescr(source=work / "README.md"),
        covers=[spec.FileDescr(source=work / "cover.png")],
        tags=["defocus", "restoration", "fluorescence", "high-content screening", "2d"],
        inputs=[_input_tensor(spec, work, percentiles)],
        outputs=[_output_tensor(spec, work)],
        weights=_weights(spec, info, work),
        training_data=spec.DatasetDescr(
            name="platefocus training pairs",
            description=_training_data(info),
            authors=[spec.Author(name="platefocus")],
            cite=cite,
            license=spec.LicenseId("MIT"),
        ),
        # Fixed, so that exporting the same checkpoint twice gives the same description.
        timestamp=datetime(2026, 1, 1, tzinfo=UTC),
        config=spec.Config(
            bioimageio=spec.BioimageioConfig(
                reproducibility_tolerance=[spec.ReproducibilityTolerance(**TOLERANCE)]
            ),
            platefocus={**plain(info.package_config()), "inverse": INVERSE},
        ),
    )


def _citation(name: str) -> tuple[str, str]:
    return CITATIONS.get(name, DEFAULT_CITATION)


def _input_tensor(spec, work: Path, percentiles):
    """One plane in camera units, scaled by its own percentiles (platefocus's scaling)."""
    size = spec.ParameterizedSize(min=32, step=16)
    return spec.InputTensorDescr(
        id=spec.TensorId(INPUT_ID),
        description="one plane, camera units (ADU)",
        axes=[
            spec.BatchAxis(),
            spec.ChannelAxis(channel_names=[spec.Identifier("plane")]),
            spec.SpaceInputAxis(id=spec.AxisId("y"), size=size),
            spec.SpaceInputAxis(id=spec.AxisId("x"), size=size),
        ],
        test_tensor=spec.FileDescr(source=work / "test_input.npy"),
        preprocessing=[
            spec.ScaleRangeDescr(
                kwargs=spec.ScaleRangeKwargs(
                    axes=[spec.AxisId("y"), spec.AxisId("x")],
                    min_percentile=percentiles[0],
                    max_percentile=percentiles[1],
                )
            )
        ],
    )


def _output_tensor(spec, work: Path):
    """The restored plane, the input's size, on the normalised scale."""

    def same_as_input(axis: str):
        return spec.SizeReference(tensor_id=spec.TensorId(INPUT_ID), axis_id=spec.AxisId(axis))

    return spec.OutputTensorDescr(
        id=spec.TensorId(OUTPUT_ID),
        description=f"in-focus estimate, normalised; intensities: {INVERSE}",
        axes=[
            spec.BatchAxis(),
            spec.ChannelAxis(channel_names=[spec.Identifier("restored")]),
            spec.SpaceOutputAxis(id=spec.AxisId("y"), size=same_as_input("y")),
            spec.SpaceOutputAxis(id=spec.AxisId("x"), size=same_as_input("x")),
        ],
        test_tensor=spec.FileDescr(source=work / "test_output.npy"),
    )


def _weights(spec, info: ModelInfo, work: Path):
    """The state dict, its architecture built by ``platefocus.models.build_model``."""
    return spec.WeightsDescr(
        pytorch_state_dict=spec.PytorchStateDictWeightsDescr(
            source=work / "weights.pt",
            architecture=spec.ArchitectureFromLibraryDescr(
                callable=spec.Identifier("build_model"),
                import_from="platefocus.models",
                kwargs=plain(info.architecture_arguments()),
            ),
            pytorch_version=spec.Version(torch.__version__.split("+")[0]),
        )
    )


def _save(descr, path: Path) -> None:
    """Validate and write the package (no network: every file is local)."""
    from bioimageio.spec import save_bioimageio_package
    from bioimageio.spec._internal.validation_context import ValidationContext

    with ValidationContext(perform_io_checks=False):
        save_bioimageio_package(descr, output_path=path)


def _training_data(info: ModelInfo) -> str:
    dataset = plain(info.dataset)
    return (
        f"Pairs of (defocused plane, best focal plane) patches of plates "
        f"{dataset.get('plates')}, split by well; offsets {dataset.get('offsets')} planes; "
        f"percentiles {dataset.get('percentiles')}. Full description in config.platefocus."
    )


def _documentation(info: ModelInfo, percentiles) -> str:
    return f"""# platefocus {info.architecture}: defocus restoration

Input `raw`: one widefield fluorescence plane (y, x), camera units. Preprocessing maps its
own {percentiles[0]} / {percentiles[1]} percentiles to 0 / 1.

Output `restored`: the in-focus estimate on that scale. To get intensities back:
{INVERSE}. platefocus does this itself (`platefocus restore --model package.zip`).

Trained by platefocus on plates {list(info.trained_on or ())}, epoch
{info.epoch}; the training settings are in `config.platefocus` of `rdf.yaml`.
Weights were initialised at random (no pretrained weights).
"""


def _write_cover(path: Path, plane, restored, cover) -> None:
    from skimage import io
    from skimage.exposure import rescale_intensity

    if cover is None:
        left = rescale_intensity(plane, in_range=percentile_range(plane))
        right = rescale_intensity(restored, in_range=percentile_range(restored))
        gray = (np.concatenate([left, right], axis=1).clip(0, 1) * 255).astype(np.uint8)
        cover = np.stack([gray] * 3, axis=-1)
    io.imsave(path, cover, check_contrast=False)
