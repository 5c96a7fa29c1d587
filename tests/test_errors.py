"""Input errors survive a trip between processes (Dask workers pickle them back)."""

from __future__ import annotations

import pickle

from platefocus.errors import InputError


def test_an_input_error_pickles_with_its_file_and_problem():
    err = pickle.loads(pickle.dumps(InputError("plate/A01.tif", "not a TIFF")))
    assert isinstance(err, InputError)
    assert (err.where, err.problem) == ("plate/A01.tif", "not a TIFF")
    assert str(err) == "plate/A01.tif: not a TIFF"
