"""X or not X on 5x5 images with 0/1 pixels, for a binary classifier."""

from __future__ import annotations

import numpy as np

from ._ascii_art import _X5_ART, _check_positive_int, _from_art
from .shapes import _render_ring, _render_x, _shift

__all__ = ["canonical_x5", "x_or_not_x"]


def canonical_x5() -> np.ndarray:
    """The clean 5x5 X of :func:`x_or_not_x`: both diagonals on (1), background 0.

    Returns
    -------
    numpy.ndarray
        float32 array of shape (5, 5) with values in {0, 1}::

            [[1, 0, 0, 0, 1],
             [0, 1, 0, 1, 0],
             [0, 0, 1, 0, 0],
             [0, 1, 0, 1, 0],
             [1, 0, 0, 0, 1]]

    Examples
    --------
    >>> int(canonical_x5().sum())
    9
    """
    return _from_art(_X5_ART, 1.0, 0.0)


def _place(pattern: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Put a small 0/1 pattern at a random position of a size x size background."""
    ph, pw = pattern.shape
    r = int(rng.integers(0, size - ph + 1))
    c = int(rng.integers(0, size - pw + 1))
    out = np.zeros((size, size), dtype=np.float32)
    out[r : r + ph, c : c + pw] = pattern
    return out


def _positive_x5(kind: str, rng: np.random.Generator) -> np.ndarray:
    x = canonical_x5()
    if kind == "clean":
        return x
    if kind == "noisy":  # one or two stray pixels turned on
        off = np.flatnonzero(x.ravel() == 0)
        x.ravel()[rng.choice(off, size=int(rng.integers(1, 3)), replace=False)] = 1.0
        return x
    if kind == "partial":  # one or two stroke pixels missing
        on = np.flatnonzero(x.ravel() == 1)
        x.ravel()[rng.choice(on, size=int(rng.integers(1, 3)), replace=False)] = 0.0
        return x
    if kind == "shifted":  # moved one pixel, the part that leaves the image is cut off
        shifts = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]
        dr, dc = shifts[int(rng.integers(len(shifts)))]
        return _shift(x, dr, dc)
    # "small": a 3x3 X somewhere in the image
    return _place(_render_x(3, 1.0, 1.0).astype(np.float32), 5, rng)


def _negative_x5(kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "ring":
        return _render_ring(5, 2.0, 1.0).astype(np.float32)
    if kind == "small_ring":
        return _place(_render_ring(3, 1.0, 1.0).astype(np.float32), 5, rng)
    if kind == "line":  # horizontal or vertical, 3 to 5 pixels long
        line = np.ones((1, int(rng.integers(3, 6))), dtype=np.float32)
        return _place(line if rng.random() < 0.5 else line.T, 5, rng)
    if kind == "diagonal":  # a single diagonal, 3 to 5 pixels long, either direction
        diag = np.eye(int(rng.integers(3, 6)), dtype=np.float32)
        return _place(diag if rng.random() < 0.5 else diag[:, ::-1], 5, rng)
    if kind == "plus":  # a "+" spanning the image or a small one
        n = 5 if rng.random() < 0.5 else 3
        plus = np.zeros((n, n), dtype=np.float32)
        plus[n // 2, :] = plus[:, n // 2] = 1.0
        return _place(plus, 5, rng)
    # "blob": 3 to 8 pixels grown from a seed pixel through their 4-neighbours
    blob = np.zeros((5, 5), dtype=np.float32)
    r, c = (int(v) for v in rng.integers(0, 5, size=2))
    blob[r, c] = 1.0
    target = int(rng.integers(3, 9))
    while blob.sum() < target:
        on_r, on_c = np.nonzero(blob)
        i = int(rng.integers(on_r.size))
        dr, dc = ((-1, 0), (1, 0), (0, -1), (0, 1))[int(rng.integers(4))]
        nr, nc = on_r[i] + dr, on_c[i] + dc
        if 0 <= nr < 5 and 0 <= nc < 5:
            blob[nr, nc] = 1.0
    return blob


_POSITIVE_KINDS = ("clean", "noisy", "partial", "shifted", "small")
_NEGATIVE_KINDS = ("ring", "small_ring", "line", "diagonal", "plus", "blob")


def x_or_not_x(n_per_class: int = 100, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Generate a balanced, shuffled X-or-not-X set of 5x5 images with 0/1 pixels.

    Label 1 (an X): the clean X (:func:`canonical_x5`), the X with one or two stray pixels, the
    X with one or two pixels missing, the X moved by one pixel (its edge cut off), and a small
    3x3 X anywhere in the image. Label 0 (not an X): the 5x5 O, a small square ring, horizontal
    and vertical lines, a single diagonal, a "+" cross (full size or 3x3) and random blobs of 3
    to 8 edge-connected pixels. The kind of each image is drawn uniformly from its class's list,
    so no image appears under both labels.

    Parameters
    ----------
    n_per_class : int
        Number of images of each label.
    seed : int or None
        Seed of ``numpy.random.default_rng``; the same seed gives the same arrays.

    Returns
    -------
    images : numpy.ndarray
        float32, shape (2 * n_per_class, 1, 5, 5), values in {0, 1}.
    labels : numpy.ndarray
        float32, shape (2 * n_per_class,), 1.0 for X and 0.0 for not X, ready for a binary
        log loss.

    Examples
    --------
    >>> images, labels = x_or_not_x(n_per_class=3, seed=0)
    >>> images.shape, labels.dtype, float(labels.sum())
    ((6, 1, 5, 5), dtype('float32'), 3.0)
    """
    n_per_class = _check_positive_int("x_or_not_x", "n_per_class", n_per_class)
    rng = np.random.default_rng(seed)
    images = np.zeros((2 * n_per_class, 1, 5, 5), dtype=np.float32)
    for k in range(n_per_class):
        kind = _POSITIVE_KINDS[int(rng.integers(len(_POSITIVE_KINDS)))]
        images[k, 0] = _positive_x5(kind, rng)
    for k in range(n_per_class):
        kind = _NEGATIVE_KINDS[int(rng.integers(len(_NEGATIVE_KINDS)))]
        images[n_per_class + k, 0] = _negative_x5(kind, rng)
    labels = np.repeat(np.array([1.0, 0.0], dtype=np.float32), n_per_class)
    order = rng.permutation(labels.size)
    return images[order], labels[order]
