"""Pooling window arithmetic shared by export and loading (PyTorch's rules, per axis).

A window ``i`` covers input cells ``[i*s - before, i*s - before + k)``. With ``ceil_mode`` a
last partial window is kept only if it starts inside the input or the leading padding.

>>> pool_out_size(5, 2, 2, 0, 0, ceil_mode=True), pool_out_size(5, 2, 2, 0, 0, False)
(3, 2)
>>> window_counts(5, 2, 2, 0, 0, 3, include_pad=True).tolist()
[2, 2, 1]
"""

from __future__ import annotations

import numpy as np

__all__ = ["pool_out_size", "tail_pad", "window_counts"]


def pool_out_size(size: int, k: int, s: int, before: int, after: int, ceil_mode: bool) -> int:
    """Number of windows along one axis."""
    span = size + before + after - k
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + before:
        out -= 1  # the last window would start in the trailing padding
    if out < 1:
        raise ValueError(
            f"pooling window {k} is larger than the padded input {size + before + after}"
        )
    return out


def tail_pad(size: int, k: int, s: int, before: int, out: int) -> int:
    """Trailing padding that makes exactly ``out`` floor-mode windows fit (never negative)."""
    return max(0, (out - 1) * s + k - size - before)


def window_counts(
    size: int, k: int, s: int, before: int, after: int, out: int, include_pad: bool
) -> np.ndarray:
    """Cells each window counts in an average: inside the padded input, or the input only."""
    starts = np.arange(out, dtype=np.int64) * s - before
    lo, hi = (-before, size + after) if include_pad else (0, size)
    return np.minimum(starts + k, hi) - np.maximum(starts, lo)
