"""Example fields of a comparison for the report: raw, restored and in-focus planes with
the outlines of their segmentation (the same settings on all three)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from platefocus.dataset.split import first_field, held_out_planes
from platefocus.io.fields import field_array, list_fields
from platefocus.io.omezarr import open_image, read_platefocus_attrs
from platefocus.segment.nuclei import SegmentationConfig, with_diameter
from platefocus.segment.planes import segment_planes


def example_fields(
    raw_plate: str | os.PathLike,
    restored_plate: str | os.PathLike,
    manifest: pd.DataFrame,
    planes: pd.DataFrame,
    segmentation: SegmentationConfig,
    channel: int,
) -> list[dict]:
    """Raw, restored and in-focus images of one field at its two largest |dz|, each with
    its segmentation, for the example panels.

    The field is the first of the held-out (``test``) wells when there are any.

    Returns
    -------
    list of dict
        ``raw``, ``restored``, ``truth`` (Y, X) images, ``<name>_labels`` and a ``title``;
        a field of one plane has no ``truth`` image (nothing in focus to show).
    """
    pool = held_out_planes(planes)
    refs = {(r.well, r.site): r for r in list_fields(manifest)}
    ref = refs[first_field(pool)]
    stack = np.asarray(field_array(raw_plate, ref)[ref.channels.index(channel)])
    restored = np.asarray(open_image(restored_plate, ref.path)[0])
    if len(stack) == 1:
        images = dict(raw=stack[0], restored=restored[0])
        same = with_diameter(segmentation, images["raw"])  # as _compare_single_plane
        example = {**images, "title": f"{ref.well} site {ref.site}, one plane (no reference)"}
        example.update(
            {
                f"{k}_labels": v
                for k, v in zip(images, segment_planes(list(images.values()), same), strict=True)
            }
        )
        return [example]
    # restored planes by their source plane (a plane list or every plane has no dz there)
    restored_z = read_platefocus_attrs(restored_plate, ref.path)["source_z"]
    rows = pool[(pool["well"] == ref.well) & (pool["site"] == ref.site)]
    examples = []
    for dz in sorted({int(d) for d in rows["dz"]}, key=abs)[-2:]:
        row = rows[rows["dz"] == dz].iloc[0]
        images = dict(
            raw=stack[ref.z_indices.index(int(row["z"]))],
            restored=restored[restored_z.index(int(row["z"]))],
            truth=stack[ref.z_indices.index(int(row["best_z"]))],
        )
        example = dict(images)
        same = with_diameter(segmentation, images["truth"])
        example.update(
            {
                f"{k}_labels": v
                for k, v in zip(images, segment_planes(list(images.values()), same), strict=True)
            }
        )
        example["title"] = f"{ref.well} site {ref.site}, dz={dz:+d} ({row['split']})"
        examples.append(example)
    return examples
