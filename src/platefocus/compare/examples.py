"""Example planes of held-out fields: the input, every model's restoration and the truth
(:func:`restored_examples`), and one model's raw, restored and in-focus planes with the
outlines of their segmentation (:func:`example_fields`, the same settings on all three).

For the published-experiment figures (ReFocus: restored examples at z = 1, on the side
training saw, and z = 32, on the side it never saw, beside the in-focus truth).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from platefocus.dataset.split import first_field, held_out_planes
from platefocus.io.fields import field_array, list_fields
from platefocus.io.omezarr import open_image, read_platefocus_attrs
from platefocus.segment.nuclei import SegmentationConfig, with_diameter
from platefocus.segment.planes import segment_planes


def _planes_to_show(rows: pd.DataFrame, example_z: Sequence[int] | None) -> list[int]:
    """The planes ``z`` to show of one field: ``example_z`` where restored, else the
    restored plane farthest from focus below it and the one farthest above it."""
    restored = set(rows["z"].astype(int))
    if example_z:
        return [int(z) for z in example_z if int(z) in restored]
    below, above = rows[rows["dz"] < 0], rows[rows["dz"] > 0]
    picks = [int(side.loc[side["dz"].abs().idxmax(), "z"]) for side in (below, above) if len(side)]
    return picks


def restored_examples(
    raw_plate: str | os.PathLike,
    restored_plates: Sequence[str | os.PathLike],
    names: Sequence[str],
    manifest: pd.DataFrame,
    planes: pd.DataFrame,
    channel: int,
    z_step_um: float,
    example_z: Sequence[int] | None = None,
) -> list[dict]:
    """The example rows of :func:`platefocus.report.models.restored_examples`.

    ``planes`` is one model's per-plane segmentation table (which planes of which field
    were restored, and their best plane); the field is the first held-out (``test``) field
    that has every plane of ``example_z`` (the first field when none is held out).

    Returns
    -------
    list of dict
        One per plane: ``title``, ``input`` and ``truth`` (Y, X), ``models``: name ->
        restored (Y, X). Empty when no field has the planes asked for.
    """
    pool = held_out_planes(planes[planes["dz"].notna()])
    refs = {(r.well, r.site): r for r in list_fields(manifest)}
    for (well, site), rows in pool.groupby(["well", "site"], sort=True):
        shown = _planes_to_show(rows, example_z)
        if not shown or (example_z and len(shown) < len(example_z)):
            continue
        ref = refs[(well, site)]
        stack = field_array(raw_plate, ref)[ref.channels.index(channel)]
        best_z = int(rows["best_z"].iloc[0])
        truth = np.asarray(stack[ref.z_indices.index(best_z)])
        restored = [
            (name, open_image(path, ref.path)[0], read_platefocus_attrs(path, ref.path))
            for name, path in zip(names, restored_plates, strict=True)
        ]
        examples = []
        for z in shown:
            dz_um = (z - best_z) * z_step_um
            models = {
                name: np.asarray(image[meta["source_z"].index(z)]) for name, image, meta in restored
            }
            examples.append(
                dict(
                    title=f"{well} s{site}, z = {z} ({dz_um:+g} um)",
                    input=np.asarray(stack[ref.z_indices.index(z)]),
                    truth=truth,
                    models=models,
                )
            )
        return examples
    return []


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
        same = with_diameter(segmentation, images["raw"])  # as compare_single_plane
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
