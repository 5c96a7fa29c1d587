"""Per-object confidence: a faithfully restored nucleus is reliable; one nucleus restored as
several spots, an invention over a neighbour's out-of-focus light, and a swollen or
shrunken nucleus are not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from platefocus.consistency.confidence import object_confidence
from platefocus.consistency.planes import plane_consistency
from platefocus.consistency.projection import blur
from platefocus.synth.psf import Optics, widefield_psf

SHAPE = (160, 160)
YY, XX = np.indices(SHAPE)
KERNEL = widefield_psf(Optics(), np.array([12.0]), 41)[0]
BACKGROUND = 100.0


def _disk(cy, cx, radius) -> np.ndarray:
    return np.hypot(YY - cy, XX - cx) < radius


def _observe(sharp: np.ndarray, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, 2.0, SHAPE)
    return blur(sharp, KERNEL) + noise


def _confidence(restored, labels, observed, expected=30.0) -> pd.DataFrame:
    _, support, _ = plane_consistency(observed, restored, labels, KERNEL)
    observed_labels = (blur(restored, KERNEL) > BACKGROUND + 30).astype(int)
    return object_confidence(
        labels, observed_labels, expected, support.set_index("label")["support"]
    )


def test_faithful_restoration_is_reliable():
    sharp = BACKGROUND + 800.0 * _disk(80, 80, 15)
    table = _confidence(sharp, _disk(80, 80, 15).astype(int), _observe(sharp))
    row = table.iloc[0]
    assert row["reliable"] and row["confidence"] > 0.8 and not row["split"]


def test_one_nucleus_restored_as_spots_is_unreliable():
    truth = BACKGROUND + 800.0 * _disk(80, 80, 15)
    spots = [(72, 74), (88, 76), (80, 90)]
    labels = np.zeros(SHAPE, int)
    restored = np.full(SHAPE, BACKGROUND)
    for k, (cy, cx) in enumerate(spots, start=1):
        labels[_disk(cy, cx, 5)] = k
        restored += 800.0 * (15 / 5) ** 2 / 3 * _disk(cy, cx, 5)  # the nucleus' light, in spots
    table = _confidence(restored, labels, _observe(truth))
    assert table["split"].all() and (table["siblings"] == 2).all()
    assert not table["reliable"].any(), table


def test_invention_over_out_of_focus_light_is_unreliable():
    truth = BACKGROUND + 800.0 * _disk(80, 60, 15)
    invented = _disk(80, 98, 14)  # in the real nucleus' halo, where the observation is bright
    restored = truth + 700.0 * invented
    labels = _disk(80, 60, 15).astype(int) + 2 * invented
    table = _confidence(restored, labels, _observe(truth)).set_index("label")
    assert table.loc[1, "reliable"] and not table.loc[2, "reliable"], table


@pytest.mark.parametrize("radius", [9, 26])
def test_shrunken_or_swollen_nucleus_is_unreliable(radius):
    sharp = BACKGROUND + 800.0 * _disk(80, 80, radius)
    table = _confidence(sharp, _disk(80, 80, radius).astype(int), _observe(sharp))
    assert not table.iloc[0]["reliable"]
    assert table.iloc[0]["size_ratio"] == pytest.approx(2 * radius / 30.0, rel=0.05)


def test_touching_full_sized_nuclei_are_not_a_split():
    left, right = _disk(80, 64, 15), _disk(80, 95, 15)
    sharp = BACKGROUND + 800.0 * (left | right)
    labels = left.astype(int) + 2 * right
    table = _confidence(sharp, labels, _observe(sharp))
    assert (table["siblings"] == 1).all() and not table["split"].any()
    assert table["reliable"].all()


def test_no_objects_gives_an_empty_table():
    empty = np.zeros(SHAPE, int)
    assert object_confidence(empty, empty, 30.0).empty
