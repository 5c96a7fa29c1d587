"""Where restoration can be trusted, per plate: the distance from focus up to which
held-out planes restored well, each plane's verdict against it, and how often a confident
object is a real one.

Per object the confidence comes from :mod:`platefocus.consistency.confidence`. Per plane,
the held-out F1-against-distance curve (wells training never saw, scored against true
labels) gives the **reliable range**: the largest |dz| up to which every held-out distance
restored to a mean F1 of at least ``min_f1``. A plane beyond it keeps its counts, but none
of its objects is reliable and its plane says ``beyond_reliable_range``. Without held-out
truth (a real plate, a model trained elsewhere) the range is unknown and every plane says
so (``beyond_reliable_range`` is missing): its counts are not qualified by distance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Mean held-out F1 below which a distance from focus is beyond the reliable range.
MIN_F1 = 0.5


def reliable_range(planes: pd.DataFrame, min_f1: float = MIN_F1) -> float | None:
    """The largest |dz| (planes) up to which every held-out distance (split ``test``, true
    labels) restored to a mean F1 of at least ``min_f1``; 0 when even the nearest did
    not; None without held-out rows with truth."""
    if "truth" not in planes:
        return None
    held = planes[(planes["split"] == "test") & (planes["truth"] == "true labels")]
    held = held.dropna(subset=["dz", "f1_restored"])
    if held.empty:
        return None
    curve = held.assign(abs_dz=held["dz"].abs()).groupby("abs_dz")["f1_restored"].mean()
    good = 0.0
    for distance, f1 in curve.sort_index().items():
        if f1 < min_f1:
            break
        good = float(distance)
    return good


def in_focus_diameter_px(reference: pd.DataFrame) -> float | None:
    """The in-focus nuclear diameter (pixels) a plate of single planes inherits from the
    model's training plate: the median over that plate's fields of each field's in-focus
    plane's median object diameter (``expected_diameter_px`` of its Z-stack rows); None
    where the table holds no stack field that measured one."""
    if "expected_diameter_px" not in reference:
        return None
    stack = reference[reference["dz"].notna() & reference["expected_diameter_px"].notna()]
    if stack.empty:
        return None
    per_field = stack.groupby(["plate", "well", "site"])["expected_diameter_px"].first()
    return float(per_field.median())


def plane_distance(planes: pd.DataFrame, z_step_um: float | None) -> pd.Series:
    """Each plane's distance from focus in planes: ``|dz|``, or for a plane without a
    stack (one plane per field) its estimated defocus over ``z_step_um``; NaN unknown."""
    distance = planes["dz"].abs().astype(float)
    if "estimated_defocus_um" in planes and z_step_um:
        estimated = planes["estimated_defocus_um"].abs().astype(float) / z_step_um
        distance = distance.fillna(estimated)
    return distance


def consistency_against_held_out(planes: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Each plane's consistency score against the held-out planes' (split ``test``, true
    labels, in ``reference``) at the same distance from focus: ``|dz|``, or for a plane of
    one per field the offset it was checked at, ``|operator_dz|`` (planes).

    ``consistency_vs_held_out``: the plane's score over the held-out planes' median score
    at that distance (near 1: its restoration explains its observation as well as
    restorations that scored against truth did; above 1: worse, which on a real plane is
    evidence that its optics or objects differ from the training plate's);
    ``consistency_vs_held_out_max``: the largest held-out plane's ratio at that distance,
    the spread the held-out planes themselves show. NaN where either is unknown."""
    columns = ["consistency_vs_held_out", "consistency_vs_held_out_max"]
    out = pd.DataFrame(np.nan, index=planes.index, columns=columns)
    if "consistency_score" not in planes or "consistency_score" not in reference:
        return out
    held = reference[(reference["split"] == "test") & (reference["truth"] == "true labels")]
    held = held.dropna(subset=["dz", "consistency_score"])
    if held.empty:
        return out
    by_distance = held.groupby(held["dz"].abs())["consistency_score"]
    median, largest = by_distance.median(), by_distance.max()
    distance = planes["dz"].abs()
    if "operator_dz" in planes:
        distance = distance.fillna(planes["operator_dz"].abs())
    typical = distance.map(median).astype(float)
    out["consistency_vs_held_out"] = planes["consistency_score"].astype(float) / typical
    out["consistency_vs_held_out_max"] = distance.map(largest / median).astype(float)
    return out


#: The columns that name one plane in the comparison's tables.
PLANE_KEY = ["plate", "well", "site", "dz"]


def _plane_keys(frame: pd.DataFrame) -> pd.MultiIndex:
    """Each row's plane as an index (a plane of one per field has no dz: a stand-in
    value, since a missing value never matches in an index)."""
    return pd.MultiIndex.from_frame(frame[PLANE_KEY].fillna({"dz": -1e9}))


def apply_reliable_range(
    planes: pd.DataFrame,
    objects: pd.DataFrame,
    range_dz: float | None,
    z_step_um: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each plane's verdict against ``range_dz`` (``reliable_range_dz``,
    ``beyond_reliable_range``: missing when the range or the plane's distance is unknown),
    objects of planes beyond it made unreliable, and ``count_reliable`` per plane
    recounted."""
    planes = planes.copy()
    planes["reliable_range_dz"] = np.nan if range_dz is None else float(range_dz)
    distance = plane_distance(planes, z_step_um)
    verdict = pd.Series(pd.NA, index=planes.index, dtype="boolean")
    if range_dz is not None:
        known = distance.notna()
        verdict[known] = distance[known] > range_dz
    planes["beyond_reliable_range"] = verdict
    return _unreliable_on(planes, objects, "beyond_reliable_range")


def apply_held_out_consistency(
    planes: pd.DataFrame, objects: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Whether the reliable range carries over to each plane without true labels.

    The range is earned on held-out synthetic planes; a plane with no truth of its own (a
    real plate) inherits it only while its restoration explains its observation about as
    well as theirs did. ``unlike_held_out``: True where its ``consistency_vs_held_out``
    (:func:`consistency_against_held_out`) exceeds every held-out plane's at its distance,
    and none of its objects is then reliable; False where it does not; missing where
    either is unknown, or the plane has true labels (its objects are judged against them
    and the verdict would not add to that)."""
    planes = planes.copy()
    verdict = worse_than_held_out(planes)
    if "truth" in planes:
        verdict[planes["truth"] == "true labels"] = pd.NA
    planes["unlike_held_out"] = verdict
    return _unreliable_on(planes, objects, "unlike_held_out")


def worse_than_held_out(planes: pd.DataFrame) -> pd.Series:
    """Per plane, whether its ``consistency_vs_held_out`` exceeds every held-out plane's
    at its distance (``consistency_vs_held_out_max``); missing where either is unknown
    or the columns are absent."""
    verdict = pd.Series(pd.NA, index=planes.index, dtype="boolean")
    if {"consistency_vs_held_out", "consistency_vs_held_out_max"} <= set(planes):
        ratio = planes["consistency_vs_held_out"]
        spread = planes["consistency_vs_held_out_max"]
        known = ratio.notna() & spread.notna()
        verdict[known] = ratio[known] > spread[known]
    return verdict


def _unreliable_on(
    planes: pd.DataFrame, objects: pd.DataFrame, verdict: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Restored objects of the planes whose ``verdict`` column is True made unreliable,
    and ``count_reliable`` per plane recounted."""
    if "reliable" not in objects or objects.empty:
        return planes, objects
    objects = objects.copy()
    marked = pd.Series(
        planes[verdict].fillna(False).astype(bool).to_numpy(), index=_plane_keys(planes)
    )
    restored = objects["source"] == "restored"
    on_marked = marked.reindex(_plane_keys(objects[restored])).fillna(False).to_numpy()
    reliable = objects.loc[restored, "reliable"].astype(bool) & ~on_marked
    objects.loc[restored, "reliable"] = reliable
    counts = pd.Series(1, index=_plane_keys(objects[restored][reliable.to_numpy()]))
    counts = counts.groupby(level=list(range(len(PLANE_KEY)))).size()
    planes["count_reliable"] = counts.reindex(_plane_keys(planes)).fillna(0).astype(int).to_numpy()
    return planes, objects


def reliability_table(objects: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """Confidence bin against the fraction of restored objects that match a true nucleus
    one to one (IoU > 0.5): ``confidence_low, confidence_high, objects, fraction_real``,
    and a last row over the objects marked ``reliable``. Empty without truth."""
    columns = ["confidence_low", "confidence_high", "objects", "fraction_real"]
    if not {"confidence", "real"} <= set(objects):
        return pd.DataFrame(columns=columns)
    known = objects[objects["source"] == "restored"].dropna(subset=["confidence", "real"])
    edges = np.round(np.linspace(0.0, 1.0, bins + 1), 6)
    which = np.clip(np.digitize(known["confidence"], edges) - 1, 0, bins - 1)
    rows = []
    for k in range(bins):
        part = known[which == k]
        rows.append(_bin_row(edges[k], edges[k + 1], part))
    marked = known[known["reliable"].astype(bool)] if "reliable" in known else known.iloc[:0]
    rows.append(_bin_row(np.nan, np.nan, marked))
    return pd.DataFrame(rows, columns=columns)


def _bin_row(low: float, high: float, part: pd.DataFrame) -> dict:
    real = part["real"].astype(bool).mean() if len(part) else np.nan
    return dict(confidence_low=low, confidence_high=high, objects=len(part), fraction_real=real)
