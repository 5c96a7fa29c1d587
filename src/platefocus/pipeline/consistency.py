"""Rules of ``workflow/rules/consistency.smk``: the defocus operator of a training plate."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def optics_from_config(acquisition: dict, consistency: dict):
    """The :class:`platefocus.synth.psf.Optics` of the workflow's acquisition and
    consistency sections (pixel size and plane step from ``acquisition``)."""
    from platefocus.synth.psf import Optics

    return Optics(
        numerical_aperture=consistency["numerical_aperture"],
        emission_wavelength_um=consistency["emission_wavelength_um"],
        immersion_ri=consistency["immersion_ri"],
        pixel_size_um=acquisition["pixel_size_um"],
        z_step_um=acquisition["z_step_um"],
    )


def estimate_operator(
    plate_path: str | Path,
    manifest_path: str | Path,
    targets_path: str | Path,
    offsets: list[int],
    grid: list[int],
    channel: int,
    acquisition: dict,
    consistency: dict,
    out_kernels: str | Path,
    out_table: str | Path,
    out_figure: str | Path,
) -> None:
    """Kernels per offset from the kept target tiles and from the PSF model, their
    agreement table and figure (:mod:`platefocus.consistency.stack`)."""
    import pandas as pd

    from platefocus.consistency.stack import defocus_operator, save_kernels, tile_pairs
    from platefocus.errors import InputError
    from platefocus.io.atomic import write_table
    from platefocus.report.consistency import operator_profiles
    from platefocus.report.style import save_figure

    optics = optics_from_config(acquisition, consistency)
    pairs = tile_pairs(
        plate_path,
        pd.read_parquet(manifest_path),
        pd.read_parquet(targets_path),
        offsets,
        channel,
        grid,
    )
    if not any(pairs.values()):
        raise InputError("targets", "no kept target tile: no defocus operator to estimate")
    estimated, physical, table = defocus_operator(
        pairs, optics, consistency["kernel_size"], consistency["regularisation"]
    )
    save_kernels(out_kernels, estimated, physical, optics.z_step_um)
    write_table(table, out_table)
    save_figure(operator_profiles(estimated, physical, table), out_figure)
    log.info("defocus operator:\n%s", table.round(3).to_string(index=False))


def plot_consistency(
    plate_path: str | Path,
    restored_path: str | Path,
    manifest_path: str | Path,
    fields_path: str | Path,
    operator_path: str | Path,
    segmentation: dict,
    channel: int,
    out_figure: str | Path,
) -> None:
    """The hallucination figure of one model's restoration
    (:func:`platefocus.report.consistency.hallucination_figure`)."""
    import pandas as pd

    from platefocus.consistency.examples import hallucination_example
    from platefocus.consistency.stack import load_kernels
    from platefocus.report.consistency import hallucination_figure
    from platefocus.report.style import save_figure
    from platefocus.segment.nuclei import SegmentationConfig

    planes = pd.read_parquet(fields_path)
    if "count_flagged" not in planes:
        raise ValueError(f"{fields_path}: no consistency columns (compared without an operator)")
    example = hallucination_example(
        plate_path,
        restored_path,
        pd.read_parquet(manifest_path),
        planes,
        load_kernels(operator_path, "estimated"),
        SegmentationConfig.from_config(segmentation),
        channel,
    )
    save_figure(hallucination_figure(example, planes[planes["count_flagged"].notna()]), out_figure)
