"""Named positions in the flat arrays the hand-written kernels read, generated from one
tuple of names. A tuple of positions is a constant to numba: ``ints[Slot.MU]`` compiles
to the same code as ``ints[1]``."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["named_positions"]


def named_positions(kind: str, names: tuple[str, ...], start: int = 0) -> Any:
    """``names`` numbered ``start``, ``start + 1``, ... as a named tuple of ints."""
    return NamedTuple(kind, [(name, int) for name in names])(*range(start, start + len(names)))
