"""The canonical pictures as text art, and argument checks shared by the generators."""

from __future__ import annotations

import numpy as np

__all__: list[str] = []  # helpers of the generators only


# ---------------------------------------------------------------------------------------------
# Canonical pictures. "#" is a stroke pixel (+1), "." the background (-1).

_X9_ART = """
.........
.#.....#.
..#...#..
...#.#...
....#....
...#.#...
..#...#..
.#.....#.
.........
"""

_O9_ART = """
.........
...###...
..#...#..
.#.....#.
.#.....#.
.#.....#.
..#...#..
...###...
.........
"""

_X5_ART = """
#...#
.#.#.
..#..
.#.#.
#...#
"""

_FEATURE_ART = {
    "\\": """
#..
.#.
..#
""",
    "/": """
..#
.#.
#..
""",
    "x": """
#.#
.#.
#.#
""",
}


def _from_art(art: str, on: float, off: float) -> np.ndarray:
    rows = [line for line in art.strip().splitlines()]
    return np.array([[on if c == "#" else off for c in row] for row in rows], dtype=np.float32)


def _check_positive_int(func: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"{func}: {name} must be a positive integer, got {value!r}")
    return int(value)
