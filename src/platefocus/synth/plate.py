"""Synthetic plates of widefield Z-stacks, written in the BBBC006 file layout.

Layout written under ``out_dir``::

    images/<prefix>_z_NN/<plate>_<well>_s<site>_w<channel><uid>.tif   uint16 (Y, X)
    truth/<plate>_<well>_s<site>_w<channel>_infocus.tif              uint16, every object in focus
    truth/<plate>_<well>_s<site>_labels.tif                          int32 nucleus labels
    truth/best_planes.csv      true best plane per field and per tile (plane units)
    truth/nuclei.csv           geometry of every nucleus
    truth/spec.json            the full generator specification

Heights: plane ``k`` lies at ``k * z_step_um`` micrometres. Each field has a focal
surface (tilt and curvature about a per-well focus height that drifts across the plate),
and nuclei sit on it; the image of plane ``k`` is the sum over thin emitter layers of
each layer convolved with the widefield PSF at its distance from plane ``k``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
from scipy import fft as sfft

from platefocus.focus.metrics import Region, tile_grid
from platefocus.logs import progress as progress_bar
from platefocus.synth.objects import (
    Nuclei,
    chromatin_texture,
    render_layers,
    sample_nuclei,
)
from platefocus.synth.psf import best_focus_um, psf_size_for, psf_to_otf, widefield_psf
from platefocus.synth.randomise import FieldPhysics, field_physics, optics_variants
from platefocus.synth.spec import EMISSION_UM, Camera, PlateSpec

log = logging.getLogger(__name__)


def _field_rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *key]))


@dataclass
class _Field:
    well: str
    site: int
    nuclei: Nuclei
    surface_params: tuple[float, float, float, float]  # z0, tilt_y, tilt_x, curvature
    texture_seed: int
    physics: FieldPhysics


def _plan_fields(spec: PlateSpec, pad: int) -> list[_Field]:
    """Draw the focal surface and nuclei of every field (cheap; rendering comes later)."""
    canvas = (spec.height + 2 * pad, spec.width + 2 * pad)
    cy, cx = canvas[0] / 2, canvas[1] / 2
    half_diag = np.hypot(spec.height, spec.width) / 2
    fields = []
    for wi, well in enumerate(spec.wells):
        col = wi % spec.columns
        well_rng = _field_rng(spec.seed, wi)
        drift = spec.plate_tilt_um * (col / max(spec.columns - 1, 1) - 0.5)
        z_well = spec.best_plane * spec.optics.z_step_um + spec.focus_offset_um + drift
        z_well += well_rng.normal(0, spec.well_jitter_um) + spec.well_offsets_um.get(well, 0.0)
        for site in range(1, spec.sites + 1):
            rng = _field_rng(spec.seed, wi, site)
            angle = rng.uniform(0, 2 * np.pi)
            tilt = rng.uniform(0.5, 1.0) * spec.field_tilt_um / half_diag
            curvature = rng.uniform(-1, 1) * spec.field_curvature_um / half_diag**2
            params = (z_well, tilt * np.sin(angle), tilt * np.cos(angle), curvature)

            def surface(y, x, p=params):
                dy, dx = np.asarray(y) - cy, np.asarray(x) - cx
                return p[0] + p[1] * dy + p[2] * dx + p[3] * (dy * dy + dx * dx)

            physics = field_physics(spec, wi, site)
            nuclei = sample_nuclei(rng, physics.nuclei, canvas, spec.optics.pixel_size_um, surface)
            fields.append(_Field(well, site, nuclei, params, int(rng.integers(2**31)), physics))
    return fields


def _camera(
    rng: np.random.Generator, expected: np.ndarray, camera: Camera, noisy: bool
) -> np.ndarray:
    electrons = camera.peak_electrons * expected + camera.background_electrons
    if noisy:
        electrons = rng.poisson(np.clip(electrons, 0, None)).astype(np.float64)
        electrons += rng.normal(0, camera.read_noise_electrons, size=electrons.shape)
    adu = camera.gain_adu_per_electron * electrons + camera.offset_adu
    return np.clip(np.rint(adu), 0, 65535).astype(np.uint16)


def _uid(rng: np.random.Generator) -> str:
    return str(uuid.UUID(bytes=rng.bytes(16), version=4)).upper()


@dataclass
class _Imaging:
    """Sampling shared by every field: object layers, planes, defocus steps and OTFs."""

    pad: int
    canvas: tuple[int, int]
    layer_idx: np.ndarray
    layer_heights: np.ndarray
    plane_idx: np.ndarray
    d_lo: int
    otfs: list[list[np.ndarray]]  # [optics variant][channel]: (defocus steps, Y, X//2+1)
    focus_row: int


def _plan_imaging(spec: PlateSpec, fields: list[_Field], pad: int, psf_size: int) -> _Imaging:
    """Layers spanning every nucleus, the defocus of each (plane, layer) pair, the OTFs."""
    layer_step = spec.optics.z_step_um / spec.layers_per_step
    heights = np.concatenate([f.nuclei.z_um for f in fields] or [np.zeros(1)])
    halves = np.concatenate([f.nuclei.half_thickness_um for f in fields] or [np.zeros(1)])
    j_lo = int(np.floor((heights - halves).min() / layer_step))
    j_hi = int(np.ceil((heights + halves).max() / layer_step))
    layer_idx = np.arange(j_lo, j_hi + 1)
    plane_idx = np.arange(spec.planes) * spec.layers_per_step
    d_lo, d_hi = plane_idx.min() - layer_idx.max(), plane_idx.max() - layer_idx.min()
    defocus_idx = np.arange(d_lo, d_hi + 1)
    canvas = (
        sfft.next_fast_len(spec.height + 2 * pad, real=True),
        sfft.next_fast_len(spec.width + 2 * pad, real=True),
    )
    log.info(
        "plate %s: %d fields, %d layers, PSF %d px over %d defocus steps, canvas %s",
        spec.name,
        len(fields),
        len(layer_idx),
        psf_size,
        len(defocus_idx),
        canvas,
    )
    otfs = []
    for optics in optics_variants(spec):
        otfs.append([])
        for ch in range(spec.channels):
            ch_optics = dataclasses.replace(optics, emission_wavelength_um=EMISSION_UM[ch])
            # defocus from the sharpest plane (the paraxial focus without aberration)
            focus = best_focus_um(ch_optics)
            psf = widefield_psf(ch_optics, focus + defocus_idx * layer_step, psf_size)
            otfs[-1].append(psf_to_otf(psf, canvas))
    return _Imaging(
        pad=pad,
        canvas=canvas,
        layer_idx=layer_idx,
        layer_heights=layer_idx * layer_step,
        plane_idx=plane_idx,
        d_lo=int(d_lo),
        otfs=otfs,
        focus_row=int(np.nonzero(defocus_idx == 0)[0][0]),
    )


def _render_field(
    spec: PlateSpec,
    f: _Field,
    imaging: _Imaging,
    tmp: Path,
    z_dirs: list[Path],
    uid_rng: np.random.Generator,
    workers: int,
) -> None:
    """Image one field through the PSF: every plane of every channel, its in-focus truth
    and its labels, written under ``tmp``."""
    canvas, pad = imaging.canvas, imaging.pad
    ys, xs = slice(pad, pad + spec.height), slice(pad, pad + spec.width)
    tex_rng = np.random.default_rng(f.texture_seed)
    texture = chromatin_texture(tex_rng, canvas, 1.2 / spec.optics.pixel_size_um * 1.0, 0.35)
    noise_rng = _field_rng(f.texture_seed, 1)
    labels = None
    for ch in range(spec.channels):
        ch_texture = texture if ch == 0 else chromatin_texture(tex_rng, canvas, 3.0, 0.5)
        layers, footprint = render_layers(
            f.nuclei,
            canvas,
            imaging.layer_heights,
            ch_texture,
            scale=1.0 if ch == 0 else 0.35,
            body_scale=1.0 if ch == 0 else 2.0,
        )
        if ch == 0:
            labels = footprint
        spectra = sfft.rfft2(layers, workers=workers)
        del layers
        otf = imaging.otfs[f.physics.variant][ch]
        for k in range(spec.planes):
            rows = imaging.plane_idx[k] - imaging.layer_idx - imaging.d_lo
            plane = sfft.irfft2(
                np.einsum("lyx,lyx->yx", otf[rows], spectra), s=canvas, workers=workers
            )[ys, xs]
            img = _camera(noise_rng, plane, f.physics.camera, noisy=True)
            name = f"{spec.name}_{f.well}_s{f.site}_w{ch + 1}{_uid(uid_rng)}.tif"
            tifffile.imwrite(z_dirs[k] / name, img, photometric="minisblack")
        infocus = sfft.irfft2(
            (otf[imaging.focus_row][None] * spectra).sum(0), s=canvas, workers=workers
        )[ys, xs]
        tifffile.imwrite(
            tmp / "truth" / f"{spec.name}_{f.well}_s{f.site}_w{ch + 1}_infocus.tif",
            _camera(noise_rng, infocus, f.physics.camera, noisy=False),
            photometric="minisblack",
        )
    tifffile.imwrite(
        tmp / "truth" / f"{spec.name}_{f.well}_s{f.site}_labels.tif",
        _relabel(labels[ys, xs]),
        photometric="minisblack",
    )


def _psf_size(spec: PlateSpec) -> int:
    """PSF side (pixels) that holds the widest blur any object of the plate can get."""
    stack_span = (spec.planes - 1) * spec.optics.z_step_um
    z_margin = spec.field_tilt_um + spec.field_curvature_um + 4 * spec.well_jitter_um
    z_margin += abs(spec.plate_tilt_um) + spec.nuclei.thickness_um
    z_margin += max((abs(v) for v in spec.well_offsets_um.values()), default=0.0)
    return max(psf_size_for(o, stack_span + z_margin) for o in optics_variants(spec))


def generate_plate(
    spec: PlateSpec,
    out_dir: str | os.PathLike,
    *,
    workers: int = 1,
    progress: bool = True,
) -> Path:
    """Render a synthetic plate with its ground truth into ``out_dir`` (atomically).

    The plate is written to a sibling temporary folder and renamed into place at the
    end, so an interrupted run never leaves a folder that looks complete.

    Parameters
    ----------
    spec : PlateSpec
        Plate geometry, optics, camera and seed.
    out_dir : path
        Destination folder; must not exist yet.
    workers : int
        Threads for the FFTs.
    """
    out = Path(out_dir)
    if out.exists():
        raise FileExistsError(f"{out}: already exists; remove it to regenerate")
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "truth").mkdir(parents=True)
    # The canvas pad holds the widest blur, so circular convolution cannot wrap light
    # from one edge of the field into the other; objects in the pad still blur inward.
    psf_size = _psf_size(spec)
    pad = psf_size // 2
    fields = _plan_fields(spec, pad)
    imaging = _plan_imaging(spec, fields, pad, psf_size)

    uid_rng = _field_rng(spec.seed, 10**6)
    z_dirs = [tmp / "images" / f"{spec.prefix}_z_{k:02d}" for k in range(spec.planes)]
    for d in z_dirs:
        d.mkdir(parents=True)
    best_rows, nucleus_rows, physics_rows = [], [], []
    for f in progress_bar(fields, desc=f"synthesising {spec.name}", disable=not progress):
        _render_field(spec, f, imaging, tmp, z_dirs, uid_rng, workers)
        best_rows += _true_best_planes(spec, f, pad)
        nucleus_rows += _nucleus_table(spec, f, pad)
        physics_rows.append(_physics_row(spec, f))

    pd.DataFrame(best_rows).to_csv(tmp / "truth" / "best_planes.csv", index=False)
    pd.DataFrame(nucleus_rows).to_csv(tmp / "truth" / "nuclei.csv", index=False)
    if spec.randomise:
        pd.DataFrame(physics_rows).to_csv(tmp / "truth" / "field_physics.csv", index=False)
    spec_json = json.dumps(spec.to_dict(), indent=2, sort_keys=True)
    (tmp / "truth" / "spec.json").write_text(spec_json + "\n")
    tmp.rename(out)
    return out


def _physics_row(spec: PlateSpec, f: _Field) -> dict:
    """What one field was imaged with (``truth/field_physics.csv`` of a randomised plate)."""
    optics = optics_variants(spec)[f.physics.variant]
    return dict(
        plate=spec.name,
        well=f.well,
        site=f.site,
        numerical_aperture=optics.numerical_aperture,
        diameter_um=f.physics.nuclei.diameter_um[0],
        peak_electrons=f.physics.camera.peak_electrons,
        background_electrons=f.physics.camera.background_electrons,
        **(
            dict(bottom_mismatch_um=optics.bottom_mismatch_um)
            if "bottom_mismatch_um" in spec.randomise
            else {}
        ),
    )


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Number the labels present in a cropped field 1..N in order of first appearance."""
    ids = np.unique(labels)
    ids = ids[ids > 0]
    lut = np.zeros(int(labels.max()) + 1, dtype=np.int32)
    lut[ids] = np.arange(1, len(ids) + 1, dtype=np.int32)
    return lut[labels]


def _true_best_planes(spec: PlateSpec, f: _Field, pad: int) -> list[dict]:
    z_step = spec.optics.z_step_um
    y = f.nuclei.y - pad
    x = f.nuclei.x - pad
    rows = []
    regions = [Region("field", slice(0, spec.height), slice(0, spec.width))]
    regions += tile_grid(spec.height, spec.width, (2, 2))
    z0, ty, tx, curv = f.surface_params
    cy, cx = (spec.height + 2 * pad) / 2, (spec.width + 2 * pad) / 2
    for region in regions:
        tile, sy, sx = region.name, region.y, region.x
        inside = (y >= sy.start) & (y < sy.stop) & (x >= sx.start) & (x < sx.stop)
        my, mx = (sy.start + sy.stop) / 2 + pad - cy, (sx.start + sx.stop) / 2 + pad - cx
        surface = z0 + ty * my + tx * mx + curv * (my * my + mx * mx)
        objects = f.nuclei.z_um[inside]
        best = np.median(objects) if len(objects) else surface
        rows.append(
            dict(
                plate=spec.name,
                well=f.well,
                site=f.site,
                tile=tile,
                n_objects=int(inside.sum()),
                best_z=float(best / z_step),
                surface_z=float(surface / z_step),
            )
        )
    return rows


def _nucleus_table(spec: PlateSpec, f: _Field, pad: int) -> list[dict]:
    n = f.nuclei
    return [
        dict(
            plate=spec.name,
            well=f.well,
            site=f.site,
            y_px=float(n.y[i] - pad),
            x_px=float(n.x[i] - pad),
            semi_major_px=float(n.a[i]),
            semi_minor_px=float(n.b[i]),
            z_um=float(n.z_um[i]),
            brightness=float(n.brightness[i]),
        )
        for i in range(len(n))
    ]
