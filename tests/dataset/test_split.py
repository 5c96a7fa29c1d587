"""Held-out planes and the first field: what the reports show."""

import pandas as pd

from platefocus.dataset.split import first_field, held_out_planes


def test_held_out_wells_are_preferred_and_every_well_serves_when_none_is():
    planes = pd.DataFrame(
        {
            "well": ["B02", "A01", "A02", "A02"],
            "site": [1, 1, 2, 1],
            "split": ["test", "train", "test", "test"],
        }
    )
    held_out = held_out_planes(planes)
    assert set(held_out["well"]) == {"B02", "A02"} and len(held_out) == 3
    assert first_field(held_out) == ("A02", 1)
    trained_elsewhere = planes.assign(split="unused")
    assert held_out_planes(trained_elsewhere).equals(trained_elsewhere)
    assert first_field(trained_elsewhere) == ("A01", 1)
