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
import string
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
from scipy import fft as sfft

from platefocus.focus import Region, tile_grid
from platefocus.logs import progress as progress_bar
from platefocus.synth.objects import (
    Nuclei,
    NucleusPopulation,
    chromatin_texture,
    render_layers,
    sample_nuclei,
)
from platefocus.synth.psf import Optics, psf_size_for, psf_to_otf, widefield_psf

log = logging.getLogger(__name__)

# Emission wavelengths (um) of channel 1 (Hoechst) and channel 2 (phalloidin-Alexa 488).
EMISSION_UM = (0.46, 0.52)


@dataclass(frozen=True)
class Camera:
    """Camera model: photo-electrons are Poisson, read noise Gaussian, then gain and offset.

    ``peak_electrons`` is the expected signal of an in-focus nucleus of unit brightness,
    ``background_electrons`` the uniform autofluorescence per pixel.
    """

    peak_electrons: float = 800.0
    background_electrons: float = 30.0
    read_noise_electrons: float = 4.0
    gain_adu_per_electron: float = 1.0
    offset_adu: float = 100.0


@dataclass(frozen=True)
class PlateSpec:
    """Everything that defines a synthetic plate; the same spec and seed give the same bytes.

    Focus geometry (micrometres): ``best_plane`` is the nominal in-focus plane index;
    ``plate_tilt_um`` the focus drift from the first to the last column; ``well_jitter_um``
    the random per-well focus offset; ``field_tilt_um`` the height difference between the
    field centre and its edge; ``field_curvature_um`` the bow from centre to corner;
    ``well_offsets_um`` extra focus offsets of named wells (an autofocus failure: the demo
    plate's well b03 sits 9 um above the others).
    """

    name: str = "demo"
    rows: int = 2
    columns: int = 4
    sites: int = 2
    channels: int = 1
    planes: int = 21
    best_plane: float = 10.0
    height: int = 256
    width: int = 256
    prefix: str = "synthetic_v1_images"
    seed: int = 0
    plate_tilt_um: float = 5.0
    well_jitter_um: float = 1.0
    field_tilt_um: float = 5.0
    field_curvature_um: float = 2.0
    well_offsets_um: dict[str, float] = field(default_factory=lambda: {"b03": 9.0})
    optics: Optics = field(default_factory=Optics)
    camera: Camera = field(default_factory=Camera)
    nuclei: NucleusPopulation = field(default_factory=NucleusPopulation)
    layers_per_step: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.rows <= 32 or not 1 <= self.columns <= 48:
            raise ValueError(f"rows must be 1-32 and columns 1-48, got {self.rows}x{self.columns}")
        if self.channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {self.channels}")
        if self.planes < 1 or not 0 <= self.best_plane <= self.planes - 1:
            raise ValueError(
                f"best_plane must lie in the stack [0, {self.planes - 1}], got {self.best_plane}"
            )
        if min(self.height, self.width, self.sites) < 1:
            raise ValueError("height, width and sites must be positive")

    @property
    def wells(self) -> list[str]:
        """Well names as BBBC006 writes them: lower-case row letter, two-digit column."""
        letters = string.ascii_lowercase
        return [
            f"{letters[r] if r < 26 else 'a' + letters[r - 26]}{c + 1:02d}"
            for r in range(self.rows)
            for c in range(self.columns)
        ]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def preset(preset_name: str, /, **overrides) -> PlateSpec:
    """Named plate specifications.

    ``demo``: 8 wells x 2 sites, one channel, 21 planes of 256 x 256 (minutes on 2 cores).
    ``bbbc006``: the BBBC006 geometry: 384 wells, 2 sites, 2 channels, 34 planes of
    520 x 696 pixels, 2 um steps, best focus at z = 16.
    """
    presets = {
        "demo": {},
        "bbbc006": dict(
            name="mcf-z-stacks-03212011",
            rows=16,
            columns=24,
            sites=2,
            channels=2,
            planes=34,
            best_plane=16.0,
            height=520,
            width=696,
            prefix="BBBC006_v1_images",
            well_offsets_um={},
        ),
    }
    if preset_name not in presets:
        raise ValueError(
            f"unknown synthetic preset {preset_name!r}; choose one of {sorted(presets)}"
        )
    values = {**presets[preset_name], **overrides}
    for key, cls in (("optics", Optics), ("camera", Camera), ("nuclei", NucleusPopulation)):
        if isinstance(values.get(key), dict):
            sub = dict(values[key])
            for k, v in sub.items():
                if isinstance(v, list):
                    sub[k] = tuple(v)
            values[key] = cls(**sub)
    unknown = set(values) - {f.name for f in dataclasses.fields(PlateSpec)}
    if unknown:
        raise ValueError(f"unknown synthetic plate setting(s): {sorted(unknown)}")
    return PlateSpec(**values)


def _field_rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *key]))


@dataclass
class _Field:
    well: str
    site: int
    nuclei: Nuclei
    surface_params: tuple[float, float, float, float]  # z0, tilt_y, tilt_x, curvature
    texture_seed: int


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
        z_well = spec.best_plane * spec.optics.z_step_um + drift
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

            nuclei = sample_nuclei(rng, spec.nuclei, canvas, spec.optics.pixel_size_um, surface)
            fields.append(_Field(well, site, nuclei, params, int(rng.integers(2**31))))
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
    optics = spec.optics
    z_step = optics.z_step_um
    layer_step = z_step / spec.layers_per_step

    # The canvas pad holds the widest blur, so circular convolution cannot wrap light
    # from one edge of the field into the other; objects in the pad still blur inward.
    stack_span = (spec.planes - 1) * z_step
    z_margin = spec.field_tilt_um + spec.field_curvature_um + 4 * spec.well_jitter_um
    z_margin += abs(spec.plate_tilt_um) + spec.nuclei.thickness_um
    z_margin += max((abs(v) for v in spec.well_offsets_um.values()), default=0.0)
    max_defocus = stack_span + z_margin
    psf_size = psf_size_for(optics, max_defocus)
    pad = psf_size // 2
    fields = _plan_fields(spec, pad)

    heights = np.concatenate([f.nuclei.z_um for f in fields] or [np.zeros(1)])
    halves = np.concatenate([f.nuclei.half_thickness_um for f in fields] or [np.zeros(1)])
    j_lo = int(np.floor((heights - halves).min() / layer_step))
    j_hi = int(np.ceil((heights + halves).max() / layer_step))
    layer_idx = np.arange(j_lo, j_hi + 1)
    layer_heights = layer_idx * layer_step
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
    for ch in range(spec.channels):
        ch_optics = dataclasses.replace(optics, emission_wavelength_um=EMISSION_UM[ch])
        psf = widefield_psf(ch_optics, defocus_idx * layer_step, psf_size)
        otfs.append(psf_to_otf(psf, canvas))
    focus_row = int(np.nonzero(defocus_idx == 0)[0][0])

    uid_rng = _field_rng(spec.seed, 10**6)
    z_dirs = [tmp / "images" / f"{spec.prefix}_z_{k:02d}" for k in range(spec.planes)]
    for d in z_dirs:
        d.mkdir(parents=True)

    best_rows, nucleus_rows = [], []
    ys, xs = slice(pad, pad + spec.height), slice(pad, pad + spec.width)
    for f in progress_bar(fields, desc=f"synthesising {spec.name}", disable=not progress):
        tex_rng = np.random.default_rng(f.texture_seed)
        texture = chromatin_texture(tex_rng, canvas, 1.2 / optics.pixel_size_um * 1.0, 0.35)
        noise_rng = _field_rng(f.texture_seed, 1)
        labels = None
        for ch in range(spec.channels):
            body_scale = 1.0 if ch == 0 else 2.0
            ch_texture = texture if ch == 0 else chromatin_texture(tex_rng, canvas, 3.0, 0.5)
            layers, footprint = render_layers(
                f.nuclei,
                canvas,
                layer_heights,
                ch_texture,
                scale=1.0 if ch == 0 else 0.35,
                body_scale=body_scale,
            )
            if ch == 0:
                labels = footprint
            spectra = sfft.rfft2(layers, workers=workers)
            del layers
            for k in range(spec.planes):
                rows = plane_idx[k] - layer_idx - d_lo
                plane = sfft.irfft2(
                    np.einsum("lyx,lyx->yx", otfs[ch][rows], spectra),
                    s=canvas,
                    workers=workers,
                )[ys, xs]
                img = _camera(noise_rng, plane, spec.camera, noisy=True)
                name = f"{spec.name}_{f.well}_s{f.site}_w{ch + 1}{_uid(uid_rng)}.tif"
                tifffile.imwrite(z_dirs[k] / name, img, photometric="minisblack")
            infocus = sfft.irfft2(
                (otfs[ch][focus_row][None] * spectra).sum(0), s=canvas, workers=workers
            )[ys, xs]
            tifffile.imwrite(
                tmp / "truth" / f"{spec.name}_{f.well}_s{f.site}_w{ch + 1}_infocus.tif",
                _camera(noise_rng, infocus, spec.camera, noisy=False),
                photometric="minisblack",
            )
        field_labels = _relabel(labels[ys, xs])
        tifffile.imwrite(
            tmp / "truth" / f"{spec.name}_{f.well}_s{f.site}_labels.tif",
            field_labels,
            photometric="minisblack",
        )
        best_rows += _true_best_planes(spec, f, pad)
        nucleus_rows += _nucleus_table(spec, f, pad)

    pd.DataFrame(best_rows).to_csv(tmp / "truth" / "best_planes.csv", index=False)
    pd.DataFrame(nucleus_rows).to_csv(tmp / "truth" / "nuclei.csv", index=False)
    spec_json = json.dumps(spec.to_dict(), indent=2, sort_keys=True)
    (tmp / "truth" / "spec.json").write_text(spec_json + "\n")
    tmp.rename(out)
    return out


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
