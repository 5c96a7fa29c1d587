"""The held-out wells of a per-plane table: what every report on restored planes shows.

Tables of planes (the segmentation comparison's) carry each well's dataset split
(``train``/``val``/``test``, ``unused``); results and examples come from the held-out
(``test``) wells, or from every well when none is held out (a plate restored with a model
trained elsewhere).
"""

from __future__ import annotations

import pandas as pd


def held_out_planes(planes: pd.DataFrame) -> pd.DataFrame:
    """The rows of held-out (``test``) wells; every row when no well is held out."""
    test = planes[planes["split"] == "test"]
    return test if len(test) else planes


def first_field(planes: pd.DataFrame) -> tuple[str, int]:
    """``(well, site)`` of the first field (by well, then site) of a non-empty table."""
    first = planes.sort_values(["well", "site"]).iloc[0]
    return first["well"], first["site"]
