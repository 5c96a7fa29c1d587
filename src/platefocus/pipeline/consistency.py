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
