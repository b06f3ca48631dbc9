"""Shapes drawn from geometry (an X of two segments, a ring), turned and shifted by whole
pixels: the X/O variants and the small 5x5 rings."""

from __future__ import annotations

import math

import numpy as np

__all__: list[str] = []  # helpers of the generators only


def _grid(size: int, degrees: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Row and column coordinates of every pixel centre, turned by -degrees about the centre.

    Testing a shape at these points draws the shape turned by +degrees: each output pixel takes
    the value of the shape at the one point its centre maps back to (point sampling, so pixels
    stay on or off and thin strokes stay unbroken).
    """
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    if degrees == 0.0:
        return rows, cols
    c = (size - 1) / 2
    theta = math.radians(degrees)
    cos, sin = math.cos(theta), math.sin(theta)
    return (
        c + cos * (rows - c) - sin * (cols - c),
        c + sin * (rows - c) + cos * (cols - c),
    )


def _segment_distance(
    rows: np.ndarray, cols: np.ndarray, start: tuple[float, float], end: tuple[float, float]
) -> np.ndarray:
    """Distance from every point (rows, cols) to the segment start-end."""
    (r0, c0), (r1, c1) = start, end
    dr, dc = r1 - r0, c1 - c0
    t = ((rows - r0) * dr + (cols - c0) * dc) / (dr * dr + dc * dc)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(rows - (r0 + t * dr), cols - (c0 + t * dc))


def _render_x(size: int, half: float, width: float, degrees: float = 0.0) -> np.ndarray:
    """Boolean (size, size) mask of an X centred in the image, arms reaching +-half, turned."""
    rows, cols = _grid(size, degrees)
    c = (size - 1) / 2
    falling = _segment_distance(rows, cols, (c - half, c - half), (c + half, c + half))
    rising = _segment_distance(rows, cols, (c - half, c + half), (c + half, c - half))
    return np.minimum(falling, rising) <= width / 2


def _render_ring(size: int, radius: float, width: float, degrees: float = 0.0) -> np.ndarray:
    """Boolean (size, size) mask of a ring centred in the image (turning it changes nothing)."""
    rows, cols = _grid(size, degrees)
    c = (size - 1) / 2
    return np.abs(np.hypot(rows - c, cols - c) - radius) <= width / 2


def _shift(mask: np.ndarray, dr: int, dc: int) -> np.ndarray:
    """Translate an image by whole pixels, filling with background (no wrap-around)."""
    h, w = mask.shape
    out = np.zeros_like(mask)
    out[max(dr, 0) : h + min(dr, 0), max(dc, 0) : w + min(dc, 0)] = mask[
        max(-dr, 0) : h - max(dr, 0), max(-dc, 0) : w - max(dc, 0)
    ]
    return out


def _random_shift_inside(mask: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Shift by up to max_shift pixels per axis without pushing any stroke pixel off the image."""
    size = mask.shape[0]
    on_rows = np.flatnonzero(mask.any(axis=1))
    on_cols = np.flatnonzero(mask.any(axis=0))
    if on_rows.size == 0:
        return mask
    dr = rng.integers(max(-max_shift, -on_rows[0]), min(max_shift, size - 1 - on_rows[-1]) + 1)
    dc = rng.integers(max(-max_shift, -on_cols[0]), min(max_shift, size - 1 - on_cols[-1]) + 1)
    return _shift(mask, int(dr), int(dc))
