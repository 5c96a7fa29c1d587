"""Errors raised for bad user input (files, layouts, configuration)."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad input data or configuration, with the offending file or key named.

    Parameters
    ----------
    where : str or Path
        The file, folder or configuration key that is wrong.
    problem : str
        What is wrong with it, in words a user can act on.
    """

    def __init__(self, where: str | Path, problem: str) -> None:
        self.where = str(where)
        self.problem = problem
        super().__init__(f"{self.where}: {problem}")

    def __reduce__(self):
        # raised in Dask worker processes and pickled back: with both parts (the
        # default would call __init__ with the message alone and fail)
        return (type(self), (self.where, self.problem))
