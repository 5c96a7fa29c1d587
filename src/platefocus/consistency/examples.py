"""The hallucination map of one held-out field, for the report."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from platefocus.consistency.planes import plane_consistency
from platefocus.dataset.split import first_field, held_out_planes
from platefocus.io.fields import field_array, list_fields
from platefocus.io.omezarr import open_image, read_platefocus_attrs
from platefocus.segment.nuclei import SegmentationConfig, with_diameter
from platefocus.segment.planes import segment_planes


def hallucination_example(
    raw_plate: str | os.PathLike,
    restored_plate: str | os.PathLike,
    manifest: pd.DataFrame,
    planes: pd.DataFrame,
    kernels: dict[int, np.ndarray],
    segmentation: SegmentationConfig,
    channel: int,
) -> dict | None:
    """The plane farthest from focus (with a kernel) of the first held-out field:
    ``observed``, ``restored`` (Y, X), ``residual`` (noise units), ``labels`` of the
    restored plane, ``flagged`` (the flagged labels) and a ``title``; None when no plane
    has a kernel."""
    pool = planes[planes["dz"].notna() & planes["dz"].round().astype("Int64").isin(kernels)]
    if pool.empty:
        return None
    pool = held_out_planes(pool)
    well, site = first_field(pool)
    rows = pool[(pool["well"] == well) & (pool["site"] == site)]
    row = rows.loc[rows["dz"].abs().idxmax()]
    ref = {(r.well, r.site): r for r in list_fields(manifest)}[(row["well"], row["site"])]
    stack = field_array(raw_plate, ref)[ref.channels.index(channel)]
    observed = np.asarray(stack[ref.z_indices.index(int(row["z"]))])
    best = np.asarray(stack[ref.z_indices.index(int(row["best_z"]))])
    source_z = read_platefocus_attrs(restored_plate, ref.path)["source_z"]
    restored = np.asarray(open_image(restored_plate, ref.path)[0][source_z.index(int(row["z"]))])
    labels = segment_planes([restored], with_diameter(segmentation, best))[0]
    dz = round(float(row["dz"]))
    plane, objects, residual = plane_consistency(observed, restored, labels, kernels[dz])
    return dict(
        observed=observed,
        restored=restored,
        residual=residual,
        labels=labels,
        flagged=objects.loc[objects["flagged"], "label"].to_numpy(),
        title=(
            f"{ref.well} s{ref.site}, dz = {dz:+d}: consistency {plane['consistency_score']:.2f}"
            f" (noise units), {plane['count_flagged']} of {len(objects)} objects flagged"
        ),
    )
