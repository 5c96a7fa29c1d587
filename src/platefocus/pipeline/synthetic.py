"""Rules of ``workflow/rules/synthetic.smk``: the generated default plate."""

from __future__ import annotations

from pathlib import Path

from platefocus.errors import InputError


def synthesize_plate(
    out_dir: str | Path, plate: str, preset: str, seed: int, overrides: dict, workers: int = 1
) -> None:
    """Generate the synthetic plate ``plate`` from a preset into ``out_dir``."""
    from platefocus.synth import generate_plate
    from platefocus.synth import preset as make_preset

    try:
        spec = make_preset(preset, **{**overrides, "name": plate, "seed": seed})
    except (TypeError, ValueError) as err:
        raise InputError("synthetic.overrides", str(err)) from None
    generate_plate(spec, out_dir, workers=workers)
