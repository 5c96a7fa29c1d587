"""Data-consistency projection of restored planes as they are written (``restore.
projection``): each restored plane ``x`` of a plane ``dz`` from focus becomes
``x + A^+ (y - A x)`` with ``A`` the training plate's defocus operator of that ``dz`` and
``y`` the observed plane (:func:`platefocus.consistency.projection.project`; DDNM's
range-null decomposition, DDNM+'s Tikhonov relaxation ``projection_regularisation``).

Works in raw intensity units (the operator's kernels sum to 1), then casts back to the
plane's dtype as restoration does. A plane at focus (dz 0) or of unknown offset is left
as restored.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from platefocus.consistency.hallucination import noise_sigma
from platefocus.consistency.projection import noise_regularisation, project
from platefocus.consistency.stack import load_kernels, nearest_kernel
from platefocus.restore.inference import to_dtype


@functools.lru_cache(maxsize=4)
def operator_kernels(path: str) -> dict[int, np.ndarray]:
    """The estimated kernels of a defocus-operator file, read once per process."""
    return load_kernels(path, "estimated")


def project_planes(
    observed: np.ndarray,
    restored: np.ndarray,
    offsets: Sequence[int | None],
    kernels: dict[int, np.ndarray],
    regularisation: float | None,
) -> np.ndarray:
    """Project each restored plane onto its observation.

    Parameters
    ----------
    observed, restored : (N, Y, X) arrays
        The observed planes and their restorations, same raw intensity units.
    offsets : N offsets from focus (planes, signed; None: unknown)
    kernels : ``dz -> (K, K)`` unit-sum kernels
    regularisation : DDNM+'s Tikhonov lam; None: each plane's noise power over its
        signal power (:func:`~platefocus.consistency.projection.noise_regularisation`)

    Returns
    -------
    (N, Y, X) array of ``restored.dtype``
    """
    if not len(observed) == len(restored) == len(offsets):
        raise ValueError(
            f"{len(observed)} observed and {len(restored)} restored planes, {len(offsets)} offsets"
        )
    out = np.array(restored, copy=True)
    for i, dz in enumerate(offsets):
        if dz is None or dz == 0:
            continue
        kernel = nearest_kernel(kernels, int(dz))
        lam = regularisation
        if lam is None:
            lam = noise_regularisation(observed[i], noise_sigma(observed[i]))
        out[i] = to_dtype(project(restored[i], observed[i], kernel, lam), out.dtype)
    return out
