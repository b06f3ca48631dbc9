"""Argument helpers shared by the convolution and pooling ops."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from ._kernels.geometry import check_4d

__all__ = ["Samples", "check_input", "size_attr"]

Samples = list[tuple[tuple[Any, ...], dict[str, Any]]]


def size_attr(value: Any) -> Any:
    """A size attribute as graphs show it best: an int when all its entries agree, else a tuple.

    >>> import numpy as np
    >>> [size_attr(v) for v in ((2, 2), [1, 2], "same", np.int64(3), None)]
    [2, (1, 2), 'same', 3, None]
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, Sequence):
        items = tuple(int(v) for v in value)
        return items[0] if len(set(items)) == 1 and len(items) in (2, 4) else items
    return value


def check_input(op: str, shape: tuple[int, ...], what: str = "input") -> None:
    """A 4-D (N, C, H, W) array, with a hint for the common mistake of a single (C, H, W) image."""
    if len(shape) == 3:
        raise ValueError(
            f"{op}: expected a 4-D {what} (N, C, H, W), got the 3-D shape {shape}; for a single "
            f"image add a batch axis: x.reshape((1, {', '.join(map(str, shape))}))"
        )
    check_4d(shape, op, what)
