"""Which planes of each field a restore writes: all, a list, or offsets from the best plane."""

from __future__ import annotations

from dataclasses import dataclass

from platefocus.errors import InputError
from platefocus.io.fields import FieldRef

PLANE_MODES = ("all", "list", "offsets")


@dataclass(frozen=True)
class PlaneSelection:
    """Which planes of each field to restore.

    ``mode="all"``: every plane; ``"list"``: the plane indices ``z``; ``"offsets"``: the
    planes ``offsets`` away from each field's best plane (needs the best-plane table).
    Every field gets the same number of output planes (viewers stitch plates of equal
    fields): a plane outside a field's stack is written as zeros and listed as missing.
    """

    mode: str = "offsets"
    z: tuple[int, ...] = ()
    offsets: tuple[int, ...] = (-6, -4, -2, 2, 4, 6)

    def __post_init__(self) -> None:
        if self.mode not in PLANE_MODES:
            raise ValueError(f"restore planes mode must be one of {PLANE_MODES}: {self.mode!r}")

    def positions(
        self, ref: FieldRef, best_z: int | None
    ) -> tuple[list[int | None], list[int | None]]:
        """Stack positions to restore (None: outside the stack) and, for offsets, their dz.

        A field of one plane (a screen acquired fast) has no focus curve and no distance
        from focus: its plane is restored whatever the mode, with dz None."""
        n = len(ref.z_indices)
        if self.mode == "all" or n == 1:
            return list(range(n)), [None] * n
        if self.mode == "list":
            pos = [ref.z_indices.index(z) if z in ref.z_indices else None for z in self.z]
            return pos, [None] * len(pos)
        if best_z is None:
            raise InputError(f"{ref.well} site {ref.site}", "no best plane for offsets mode")
        k = ref.z_indices.index(best_z)
        pos = [k + d if 0 <= k + d < n else None for d in self.offsets]
        return pos, list(self.offsets)

    def check_planes(self, refs: list[FieldRef]) -> None:
        """Raise for listed planes that no field has (a typo would restore nothing)."""
        if self.mode != "list":
            return
        present = sorted({z for r in refs for z in r.z_indices})
        outside = [z for z in self.z if z not in present]
        if outside:
            raise InputError(
                "restore.planes",
                f"plane(s) {outside} are in no stack of the plate "
                f"({len(present)} planes, {present[0]}..{present[-1]})",
            )

    @classmethod
    def from_config(cls, planes: dict) -> PlaneSelection:
        """The selection of the workflow's ``restore.planes`` section."""
        return cls(
            mode=planes["mode"],
            z=tuple(planes.get("z", ())),
            offsets=tuple(planes.get("offsets", ())),
        )
