"""Best focal plane per field, channel and tile from per-plane focus scores.

The best plane is the arg-max of one metric along z, refined to sub-plane precision by a
parabola through the peak and its two neighbours (on the log of the metric when it is
positive, i.e. a Gaussian fit). The quality of the focus curve is summarised by
``prominence``: the peak's height above the curve's median in units of the curve's noise,
and by ``n_peaks``, the number of local maxima higher than half the peak above the minimum.

The curve's noise is the robust standard deviation of its second differences divided by
sqrt(6) (the second difference of white noise of s.d. sigma has s.d. sqrt(6) sigma): a
smooth curve has little, however broad its peak. A flat, noise-only curve scores about 1
to 3. (The curve's own spread, used before, called broad peaks unclear: at NA 0.45 the
peak spans most of a +-10 um stack, and 44 of 48 tiles of a clearly focused plate were
flagged.)
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from platefocus.focus.metrics import EPSILON, METRICS, contrast

FLAGS = ("single_plane", "peak_at_end", "no_clear_peak", "not_unimodal", "saturated", "empty")
GROUP = ["plate", "well", "site", "channel", "region"]


@dataclass(frozen=True)
class BestPlaneConfig:
    """How the best plane is chosen and judged.

    Attributes
    ----------
    metric : str
        One of ``platefocus.focus.METRICS``.
    min_prominence : float
        Below this the curve has no clear peak (peak height above the median, in robust
        standard deviations of the curve's noise).
    max_saturated_fraction : float
        Saturated pixel fraction at the best plane above which the tile is flagged.
    min_contrast : float
        A tile whose largest ``std / mean`` over z is below this holds no objects.
    """

    metric: str = "tenengrad"
    min_prominence: float = 5.0
    max_saturated_fraction: float = 0.001
    min_contrast: float = 0.15

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"focus metric must be one of {METRICS}, got {self.metric!r}")

    @classmethod
    def from_config(cls, focus: dict) -> BestPlaneConfig:
        """The workflow's ``focus`` section (the keys that choose and judge best planes)."""
        return cls(**{f.name: focus[f.name] for f in fields(cls)})


def refine_peak(curve: np.ndarray) -> tuple[int, float]:
    """Integer arg-max of a focus curve and its parabolic sub-plane refinement.

    Returns
    -------
    k : int
        Index of the maximum.
    refined : float
        ``k + delta`` with ``|delta| <= 0.5``; equal to ``k`` at either end of the curve.
    """
    curve = np.asarray(curve, dtype=float)
    k = int(np.argmax(curve))
    if k == 0 or k == len(curve) - 1:
        return k, float(k)
    f = curve[k - 1 : k + 2]
    if np.all(f > 0):
        f = np.log(f)
    denom = f[0] - 2 * f[1] + f[2]
    if denom >= 0:
        return k, float(k)
    delta = 0.5 * (f[0] - f[2]) / denom
    return k, float(k + np.clip(delta, -0.5, 0.5))


def curve_quality(curve: np.ndarray) -> tuple[float, int]:
    """``(prominence, n_peaks)`` of a focus curve (see the module docstring)."""
    curve = np.asarray(curve, dtype=float)
    if len(curve) < 3:
        return 0.0, 1
    med = np.median(curve)
    second = np.diff(curve, 2)
    noise = 1.4826 * np.median(np.abs(second - np.median(second))) / np.sqrt(6.0)
    spread = curve.max() - curve.min()
    prominence = (curve.max() - med) / max(noise, EPSILON * max(abs(med), 1.0), 1e-300)
    if spread <= 0:
        return 0.0, 1
    level = curve.min() + 0.5 * spread
    inner = curve[1:-1]
    peaks = (inner > curve[:-2]) & (inner >= curve[2:]) & (inner > level)
    n_peaks = int(peaks.sum()) + int(curve[0] > curve[1] and curve[0] > level)
    n_peaks += int(curve[-1] > curve[-2] and curve[-1] > level)
    return float(prominence), max(n_peaks, 1)


def best_planes(scores: pd.DataFrame, config: BestPlaneConfig) -> pd.DataFrame:
    """Best plane of every (plate, well, site, channel, region) in a plane-score table.

    Parameters
    ----------
    scores : DataFrame
        One row per plane and region with columns ``GROUP``, ``z`` (plane index as
        acquired), the metric, ``std``, ``mean`` and ``saturated_fraction``.

    Returns
    -------
    DataFrame
        ``GROUP`` columns plus ``metric``, ``best_z`` (plane index), ``best_z_refined``
        (fractional plane index), ``peak_score``, ``prominence``, ``n_peaks``, ``n_planes``
        and ``qc_flags`` (``;``-separated, empty when the curve is good).
    """
    rows = []
    for key, g in scores.groupby(GROUP, sort=False):
        g = g.sort_values("z")
        z = g["z"].to_numpy()
        curve = g[config.metric].to_numpy(dtype=float)
        k, refined = refine_peak(curve)
        prominence, n_peaks = curve_quality(curve)
        flags = []
        if len(curve) == 1:
            flags.append("single_plane")
        elif k in (0, len(curve) - 1):
            flags.append("peak_at_end")
        if len(curve) > 2 and prominence < config.min_prominence:
            flags.append("no_clear_peak")
        if n_peaks > 1:
            flags.append("not_unimodal")
        if g["saturated_fraction"].to_numpy()[k] > config.max_saturated_fraction:
            flags.append("saturated")
        if contrast(g["std"].to_numpy(), g["mean"].to_numpy()).max() < config.min_contrast:
            flags.append("empty")
        # plane indices may have gaps (a plane missing from the whole plate)
        best_refined = float(np.interp(refined, np.arange(len(z)), z))
        rows.append(
            dict(
                zip(GROUP, key, strict=True),
                metric=config.metric,
                best_z=int(z[k]),
                best_z_refined=best_refined,
                peak_score=float(curve[k]),
                prominence=prominence,
                n_peaks=n_peaks,
                n_planes=len(curve),
                qc_flags=";".join(flags),
            )
        )
    return pd.DataFrame(rows)


def compare_to_truth(best: pd.DataFrame, truth: pd.DataFrame, channel: int = 1) -> pd.DataFrame:
    """Chosen against true best planes, for regions that contain objects.

    Parameters
    ----------
    best : DataFrame
        Output of :func:`best_planes`.
    truth : DataFrame
        The synthetic plate's ``truth/best_planes.csv``: ``well, site, tile, n_objects,
        best_z`` (fractional plane index).

    Returns
    -------
    DataFrame
        ``well, site, region, n_objects, true_z, best_z, best_z_refined, error,
        error_refined, within_one`` for every region with at least one object.
    """
    from platefocus.io.discover import parse_well

    t = truth.rename(columns={"tile": "region", "best_z": "true_z"}).copy()
    t["well"] = ["{}{:02d}".format(*parse_well(w)) for w in t["well"]]
    b = best[best["channel"] == channel]
    j = b.merge(t[["well", "site", "region", "n_objects", "true_z"]], on=["well", "site", "region"])
    j = j[j["n_objects"] > 0].copy()
    j["error"] = j["best_z"] - j["true_z"]
    j["error_refined"] = j["best_z_refined"] - j["true_z"]
    j["within_one"] = j["error_refined"].abs() <= 1.0
    cols = [
        "well",
        "site",
        "region",
        "n_objects",
        "true_z",
        "best_z",
        "best_z_refined",
        "error",
        "error_refined",
        "within_one",
    ]
    return j[cols].reset_index(drop=True)
