"""What defines a synthetic plate: geometry, optics, camera, seed; and the named presets."""

from __future__ import annotations

import dataclasses
import string
from dataclasses import dataclass, field

from platefocus.synth.objects import NucleusPopulation
from platefocus.synth.psf import Optics

# Emission wavelengths (um) of channel 1 (Hoechst) and channel 2 (phalloidin-Alexa 488).
EMISSION_UM = (0.46, 0.52)


@dataclass(frozen=True)
class Camera:
    """Camera model: photo-electrons are Poisson, read noise Gaussian, then gain and offset.

    ``peak_electrons`` is the expected signal of an in-focus nucleus of unit brightness,
    ``background_electrons`` the uniform autofluorescence per pixel.
    """

    # Matched to real BBBC006 planes (benchmarks/bench_synthetic_vs_real.py): their noise at
    # their background level says 0.35 ADU per electron over 70 background electrons.
    peak_electrons: float = 2000.0
    background_electrons: float = 70.0
    read_noise_electrons: float = 4.0
    gain_adu_per_electron: float = 0.35
    offset_adu: float = 100.0


@dataclass(frozen=True)
class PlateSpec:
    """Everything that defines a synthetic plate; the same spec and seed give the same bytes.

    Focus geometry (micrometres): ``best_plane`` is the nominal in-focus plane index;
    ``plate_tilt_um`` the focus drift from the first to the last column; ``well_jitter_um``
    the random per-well focus offset; ``field_tilt_um`` the height difference between the
    field centre and its edge; ``field_curvature_um`` the bow from centre to corner;
    ``well_offsets_um`` extra focus offsets of named wells (an autofocus failure: the demo
    plate's well b03 sits 9 um above the others); ``focus_offset_um`` moves the focus of
    every field (a screen acquired as one plane per field away from focus).
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
    focus_offset_um: float = 0.0
    optics: Optics = field(default_factory=Optics)
    camera: Camera = field(default_factory=Camera)
    nuclei: NucleusPopulation = field(default_factory=NucleusPopulation)
    layers_per_step: int = 2
    #: Per-field physics drawn from ranges (:mod:`platefocus.synth.randomise`):
    #: ``{numerical_aperture | diameter_um | peak_electrons | background_electrons:
    #: [low, high], optics_variants: n}``; empty: every field has the physics above.
    randomise: dict = field(default_factory=dict)

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
        from platefocus.synth.randomise import check_ranges

        check_ranges(self.randomise)

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
        values = dataclasses.asdict(self)
        if not values["randomise"]:  # a plate without it writes the spec it always did
            del values["randomise"]
        return values


#: Named plate specifications (overrides of :class:`PlateSpec`'s defaults). Both share the
#: default physics (optics, camera, nuclei), matched to real BBBC006 planes by
#: ``benchmarks/bench_synthetic_vs_real.py``; they differ in geometry only.
PRESETS: dict[str, dict] = {
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


def preset(preset_name: str, /, **overrides) -> PlateSpec:
    """Named plate specifications.

    ``demo``: 8 wells x 2 sites, one channel, 21 planes of 256 x 256 (minutes on 2 cores).
    ``bbbc006``: the BBBC006 geometry: 384 wells, 2 sites, 2 channels, 34 planes of
    520 x 696 pixels, 2 um steps, best focus at z = 16.
    """
    if preset_name not in PRESETS:
        raise ValueError(
            f"unknown synthetic preset {preset_name!r}; choose one of {sorted(PRESETS)}"
        )
    values = {**PRESETS[preset_name], **overrides}
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
