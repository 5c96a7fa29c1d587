"""Figures of the physics consistency: the defocus kernels, estimated against physical."""

from __future__ import annotations

import numpy as np
import pandas as pd

from platefocus.report.style import plt


def operator_profiles(estimated: dict, physical: dict, table: pd.DataFrame):
    """Left: radial profiles of each offset's kernel, estimated from the stack (solid) and
    from the PSF model (dashed), one colour per offset. Right: their half-mass radii against
    the offset in micrometres."""
    from platefocus.consistency.operator import radial_profile

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    shown = sorted(estimated, key=lambda d: (abs(d), d))
    shown = [d for d in shown if d > 0] or shown  # one side: the profiles are symmetric
    for i, dz in enumerate(shown[:: max(1, len(shown) // 6)]):
        um = float(table.set_index("dz").loc[dz, "dz_um"])
        r, est = radial_profile(estimated[dz])
        _, phys = radial_profile(physical[dz])
        left.plot(r, est, "-", color=f"C{i}", label=f"{um:+g} um")
        left.plot(r, phys, "--", color=f"C{i}")
    left.set_yscale("log")
    left.set_ylim(bottom=max(1e-6, left.get_ylim()[0]))
    left.set_xlabel("radius (px)")
    left.set_ylabel("kernel value (unit sum)")
    left.set_title("Radial profiles: estimated (solid), PSF model (dashed)", fontsize=10)
    left.legend(fontsize=8)
    ordered = table.sort_values("dz_um")
    right.plot(ordered["dz_um"], ordered["width_estimated_px"], "-o", ms=3, label="estimated")
    right.plot(ordered["dz_um"], ordered["width_physical_px"], "k--x", label="PSF model")
    right.set_xlabel("offset from best focus (um)")
    right.set_ylabel("half-mass radius (px)")
    corr = np.nanmean(table["profile_correlation"])
    right.set_title(f"Kernel width; mean profile correlation {corr:.2f}", fontsize=10)
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig
