"""Per-field physics drawn from ranges: one synthetic plate that spans the spread of real
instruments, stains and cells instead of one calibrated point.

Why: a real defocused plane was measured to blur like the PSF model at an *effective*
aperture between 0.45 and 0.575 at 32 um (``benchmarks/bench_defocus_calibration.py``:
one real pair says 0.575, the isolated nuclei of 21 real planes say no wider than 0.45);
instruments, objectives and the true plane spacing differ between screens. A network
trained at one aperture learns one blur width; trained across a range it must read the
width from the plane. Measured at the demo's budget (``benchmarks/study_randomise.py``, README)
it bought nothing on held-out optics outside the range; it stays off by default.

What is drawn (uniformly, from the plate's seed, independently of every other draw so a
plate without ``randomise`` is byte-identical to before): the objective aperture (as
``optics_variants`` apertures spread over the range, each field imaged with one of them,
since every aperture costs a PSF stack), the mean nuclear diameter (micrometres), the
camera's expected photo-electrons of an in-focus nucleus and of the background, and the
plate bottom's glass beyond the objective's design (``bottom_mismatch_um``, spherical
aberration: :class:`platefocus.synth.psf.Optics`): that adds as many aberrated variants
as there are apertures, each aperture again with one mismatch of the range (spread evenly,
interleaved so that apertures and mismatches do not rise together). Aberrated or not is
not drawn: it alternates between a well's sites (and the first site between wells), so half
the fields are aberrated and every well of two sites or more, held-out wells included,
holds both kinds; the aperture (or mismatch) within a kind is drawn.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

#: The keys of ``randomise`` and the parameter each one draws.
RANGES = {
    "numerical_aperture": "objective aperture (dimensionless), per field via a variant",
    "diameter_um": "mean nuclear diameter, micrometres",
    "peak_electrons": "expected photo-electrons of an in-focus nucleus",
    "background_electrons": "expected photo-electrons of the background, per pixel",
    "bottom_mismatch_um": "glass beyond the objective's design, micrometres (0: none)",
}
#: Ranges drawn per optics variant (a PSF stack each), not per field.
VARIANT_KEYS = ("numerical_aperture", "bottom_mismatch_um")


@dataclass(frozen=True)
class FieldPhysics:
    """What one field is imaged with: its optics variant, nuclei and camera."""

    variant: int
    nuclei: object  # platefocus.synth.objects.NucleusPopulation
    camera: object  # platefocus.synth.spec.Camera


def check_ranges(randomise: dict) -> dict[str, tuple[float, float]]:
    """``randomise`` as ``{key: (low, high)}``, or ValueError naming the bad key."""
    ranges = {}
    for key, value in randomise.items():
        if key == "optics_variants":
            if int(value) < 1:
                raise ValueError(f"randomise.optics_variants must be >= 1, got {value}")
            continue
        if key not in RANGES:
            raise ValueError(
                f"randomise.{key}: unknown; choose from {sorted(RANGES)} or optics_variants"
            )
        low, high = (float(v) for v in value)
        zero_allowed = key == "bottom_mismatch_um"  # 0: no aberration
        if not (0 <= low <= high if zero_allowed else 0 < low <= high):
            bound = "0 <= low <= high" if zero_allowed else "0 < low <= high"
            raise ValueError(f"randomise.{key} must be [low, high] with {bound}")
        ranges[key] = (low, high)
    return ranges


def variant_count(spec) -> int:
    """``randomise.optics_variants``: how many apertures (and aberrated copies) a plate
    draws from (default 4)."""
    return int(spec.randomise.get("optics_variants", 4))


def optics_variants(spec) -> list:
    """The :class:`platefocus.synth.psf.Optics` every field is imaged with: the spec's
    own, or ``optics_variants`` apertures evenly spread over the randomised range; then,
    with ``bottom_mismatch_um``, the same again, each with one mismatch (module doc)."""
    ranges = check_ranges(spec.randomise)
    count = variant_count(spec)
    variants = [spec.optics]
    if "numerical_aperture" in ranges:
        variants = [
            dataclasses.replace(spec.optics, numerical_aperture=float(na))
            for na in np.linspace(*ranges["numerical_aperture"], count)
        ]
    if "bottom_mismatch_um" in ranges:
        mismatches = np.linspace(*ranges["bottom_mismatch_um"], count)
        interleaved = np.r_[np.arange(1, count, 2), np.arange(0, count, 2)]
        variants += [
            dataclasses.replace(variants[i % len(variants)], bottom_mismatch_um=float(m))
            for i, m in enumerate(mismatches[interleaved])
        ]
    return variants


def field_physics(spec, well_index: int, site: int) -> FieldPhysics:
    """One field's draw (its own random stream: the plate's other draws do not move)."""
    ranges = check_ranges(spec.randomise)
    if not ranges:
        return FieldPhysics(0, spec.nuclei, spec.camera)
    rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 7_919, well_index, site]))
    draw = {
        key: rng.uniform(*bounds)
        for key, bounds in sorted(ranges.items())
        if key != "bottom_mismatch_um"
    }
    variant = 0
    if any(key in ranges for key in VARIANT_KEYS):
        variants = len(optics_variants(spec))
        if "bottom_mismatch_um" in ranges:
            # aberrated or not alternates between a well's sites (and the first site
            # between wells), so that every well, held-out wells too, holds both kinds;
            # the aberrated variants are the last ``optics_variants`` of the list
            aberrated = variant_count(spec)
            plain = variants - aberrated
            if (well_index + site) % 2:
                variant = plain + int(rng.integers(aberrated))
            else:
                variant = int(rng.integers(plain))
        else:
            variant = int(rng.integers(variants))
    nuclei = spec.nuclei
    if "diameter_um" in draw:
        spread = spec.nuclei.diameter_um[1] / spec.nuclei.diameter_um[0]
        nuclei = dataclasses.replace(
            nuclei, diameter_um=(draw["diameter_um"], draw["diameter_um"] * spread)
        )
    camera = dataclasses.replace(
        spec.camera,
        **{k: draw[k] for k in ("peak_electrons", "background_electrons") if k in draw},
    )
    return FieldPhysics(variant, nuclei, camera)
