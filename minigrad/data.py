"""Small datasets that ship with minigrad or are generated on the fly, and batching.

Everything here is plain numpy: functions return ``numpy.ndarray`` objects in the NCHW layout
the CNN layers expect, and :class:`DataLoader` yields numpy batches. Wrap them with
``mg.tensor`` to compute with them.

Contents
--------
X/O images (9x9, pixels -1/+1), as in the classic "how a CNN works" explainers:
    :data:`XO_CLASSES`, :func:`canonical_x`, :func:`canonical_o`, :func:`xo_features`,
    :func:`match_score`, :func:`match_map`, :func:`xo_images`.
X or not X (5x5, pixels 0/1) for a binary classifier:
    :func:`canonical_x5`, :func:`x_or_not_x`.
Handwritten digits (8x8, shipped inside scikit-learn, no download):
    :func:`load_digits`.
MNIST-format IDX files the user already has (never downloaded):
    :func:`read_idx`, :func:`load_mnist`.
Batching:
    :class:`DataLoader`.
"""

from __future__ import annotations

import gzip
import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

__all__ = [
    "XO_CLASSES",
    "DataLoader",
    "canonical_o",
    "canonical_x",
    "canonical_x5",
    "load_digits",
    "load_mnist",
    "match_map",
    "match_score",
    "read_idx",
    "x_or_not_x",
    "xo_features",
    "xo_images",
]

XO_CLASSES: tuple[str, str] = ("O", "X")
"""Class names of :func:`xo_images`, indexed by label: 0 is "O", 1 is "X"."""

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


def canonical_x() -> np.ndarray:
    """The clean 9x9 X: two diagonals from (1, 1) to (7, 7), strokes +1, background -1.

    Returns
    -------
    numpy.ndarray
        float32 array of shape (9, 9) with values in {-1, +1}; a fresh copy on every call.

    Examples
    --------
    >>> x = canonical_x()
    >>> x.shape, int((x == 1).sum())
    ((9, 9), 13)
    """
    return _from_art(_X9_ART, 1.0, -1.0)


def canonical_o() -> np.ndarray:
    """The clean 9x9 O: a ring of radius 3 around the centre, strokes +1, background -1.

    Returns
    -------
    numpy.ndarray
        float32 array of shape (9, 9) with values in {-1, +1}; a fresh copy on every call.

    Examples
    --------
    >>> o = canonical_o()
    >>> o.shape, int((o == 1).sum())
    ((9, 9), 16)
    """
    return _from_art(_O9_ART, 1.0, -1.0)


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


def xo_features() -> dict[str, np.ndarray]:
    """The three 3x3 features of the X/O explainers, strokes +1, background -1.

    Returns
    -------
    dict of str to numpy.ndarray
        ``"\\\\"`` (the falling diagonal), ``"/"`` (the rising diagonal) and ``"x"`` (the small
        centre cross), each a float32 array of shape (3, 3) with values in {-1, +1}.

    Examples
    --------
    >>> f = xo_features()
    >>> sorted(f)
    ['/', '\\\\', 'x']
    >>> f["x"].astype(int).tolist()
    [[1, -1, 1], [-1, 1, -1], [1, -1, 1]]
    """
    return {name: _from_art(art, 1.0, -1.0) for name, art in _FEATURE_ART.items()}


def match_score(patch: np.ndarray, feature: np.ndarray) -> float:
    """How well an image patch matches a feature: multiply pixelwise, add up, divide by the count.

    With +1/-1 pixels every agreeing pixel adds 1 and every disagreeing one subtracts 1, so a
    perfect match scores 1, a perfect mismatch -1, and a patch agreeing on 7 of 9 pixels scores
    (7 - 2) / 9 = 0.56.

    Parameters
    ----------
    patch, feature : numpy.ndarray
        Arrays of the same shape, e.g. (3, 3).

    Returns
    -------
    float

    Examples
    --------
    >>> f = xo_features()["\\\\"]
    >>> match_score(f, f)
    1.0
    >>> p = f.copy(); p[0, 1] = p[1, 0] = 1.0       # two pixels disagree
    >>> round(match_score(p, f), 4)
    0.5556
    """
    patch = np.asarray(patch)
    feature = np.asarray(feature)
    if patch.shape != feature.shape:
        raise ValueError(
            f"match_score: patch shape {patch.shape} differs from feature shape {feature.shape}; "
            "they must be equal"
        )
    if feature.size == 0:
        raise ValueError(f"match_score: feature is empty (shape {feature.shape})")
    return float((patch * feature).sum() / feature.size)


def match_map(image: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Slide a feature over an image and record the :func:`match_score` at every position.

    This is filtering as the explainers describe it (cross-correlation without padding, stride 1,
    divided by the number of pixels in the feature).

    Parameters
    ----------
    image : numpy.ndarray
        Shape (H, W).
    feature : numpy.ndarray
        Shape (kh, kw) with kh <= H and kw <= W.

    Returns
    -------
    numpy.ndarray
        float32 array of shape (H - kh + 1, W - kw + 1); entry [i, j] scores the patch whose
        top-left corner is (i, j).

    Examples
    --------
    >>> m = match_map(canonical_x(), xo_features()["\\\\"])
    >>> m.shape, float(m[1, 1]), round(float(m[0, 0]), 2)
    ((7, 7), 1.0, 0.78)
    """
    image = np.asarray(image, dtype=np.float32)
    feature = np.asarray(feature, dtype=np.float32)
    if image.ndim != 2 or feature.ndim != 2:
        raise ValueError(
            f"match_map: expected a 2-D image and a 2-D feature, got shapes {image.shape} "
            f"and {feature.shape}"
        )
    kh, kw = feature.shape
    if kh > image.shape[0] or kw > image.shape[1] or feature.size == 0:
        raise ValueError(
            f"match_map: feature shape {feature.shape} does not fit in image shape {image.shape}"
        )
    # (H, W) -> (H-kh+1, W-kw+1, kh, kw) windows, a view without copying
    windows = np.lib.stride_tricks.sliding_window_view(image, (kh, kw))
    return (np.einsum("ijkl,kl->ij", windows, feature) / feature.size).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Rendering shapes from geometry (used for the X/O variants and the 5x5 rings).


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


def _check_positive_int(func: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"{func}: {name} must be a positive integer, got {value!r}")
    return int(value)


# ---------------------------------------------------------------------------------------------
# X vs O, 9x9, -1/+1


def xo_images(
    n_per_class: int = 100,
    size: int = 9,
    seed: int | None = 0,
    variants: bool = True,
    *,
    max_shift: int = 1,
    max_angle: float = 12.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate a balanced, shuffled set of X and O images with strokes +1 on a -1 background.

    Shapes are drawn from geometry: an X is two crossing diagonal segments, an O a ring; a pixel
    is a stroke when its centre lies within half the stroke width of the shape. With
    ``variants=True`` each image independently gets a random size (60 % to 100 % of the
    canonical shape), stroke width (1 or 1.5 pixels), rotation (uniform in +-``max_angle``
    degrees about the image centre) and shift (up to ``max_shift`` pixels per axis, never pushing
    a stroke off the image). Rotation is nearest-neighbour resampling: every pixel takes the
    shape's value at the single point its centre maps back to, so pixels stay -1 or +1 and thin
    strokes stay connected (a ring looks the same turned). With ``variants=False`` every image
    is the canonical shape (:func:`canonical_x` / :func:`canonical_o` when ``size`` is 9).

    Parameters
    ----------
    n_per_class : int
        Number of images of each class.
    size : int
        Height and width of the images, at least 5.
    seed : int or None
        Seed of ``numpy.random.default_rng``; the same seed gives the same arrays.
    variants : bool
        Whether to draw shifted, scaled, thicker and rotated variants.
    max_shift : int
        Largest shift, in pixels, along each axis (keyword-only).
    max_angle : float
        Largest rotation, in degrees, either way (keyword-only).

    Returns
    -------
    images : numpy.ndarray
        float32, shape (2 * n_per_class, 1, size, size), values in {-1, +1}.
    labels : numpy.ndarray
        int64, shape (2 * n_per_class,); 1 for X and 0 for O (see :data:`XO_CLASSES`).

    Examples
    --------
    >>> images, labels = xo_images(n_per_class=4, seed=0)
    >>> images.shape, images.dtype, labels.tolist().count(1)
    ((8, 1, 9, 9), dtype('float32'), 4)
    >>> [XO_CLASSES[k] for k in labels[:3]]
    ['X', 'O', 'X']
    """
    n_per_class = _check_positive_int("xo_images", "n_per_class", n_per_class)
    size = _check_positive_int("xo_images", "size", size)
    if size < 5:
        raise ValueError(f"xo_images: size must be at least 5 to draw an X or an O, got {size}")
    if isinstance(max_shift, bool) or not isinstance(max_shift, int | np.integer) or max_shift < 0:
        raise ValueError(f"xo_images: max_shift must be a non-negative integer, got {max_shift!r}")
    if not (0.0 <= float(max_angle) <= 90.0):
        raise ValueError(f"xo_images: max_angle must be between 0 and 90 degrees, got {max_angle}")

    rng = np.random.default_rng(seed)
    canonical_half = (size - 3) / 2  # arms of the X and radius of the O leave a 1-pixel border
    masks = np.zeros((2, n_per_class, size, size), dtype=bool)
    for label, render in ((0, _render_ring), (1, _render_x)):
        for k in range(n_per_class):
            if not variants:
                masks[label, k] = render(size, canonical_half, 1.0)
                continue
            half = canonical_half * rng.uniform(0.6, 1.0)
            width = 1.5 if rng.random() < 0.5 else 1.0
            degrees = rng.uniform(-max_angle, max_angle)
            if label == 1:
                # a turned X reaches half * (cos + sin) along an axis: keep its tips in the image
                theta = math.radians(abs(degrees))
                reach = (size - 1) / 2 + 0.5 - width / 2
                half = min(half, reach / (math.cos(theta) + math.sin(theta)))
            mask = render(size, half, width, degrees)
            masks[label, k] = _random_shift_inside(mask, max_shift, rng)

    images = np.where(masks.reshape(-1, 1, size, size), 1.0, -1.0).astype(np.float32)
    labels = np.repeat(np.arange(2, dtype=np.int64), n_per_class)
    order = rng.permutation(labels.size)
    return images[order], labels[order]


# ---------------------------------------------------------------------------------------------
# X or not X, 5x5, 0/1


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


# ---------------------------------------------------------------------------------------------
# Handwritten digits from scikit-learn

_DIGITS_EXTRA_HINT = 'pip install "minigrad-cnn[digits]"'


def load_digits(
    test_fraction: float = 0.2, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits that ship inside scikit-learn, split into train and test sets.

    1797 grey-level images of the digits 0-9, read from scikit-learn's own files (nothing is
    downloaded). Pixels are scaled from 0..16 to [0, 1]. The split is stratified: every digit
    keeps the same share in both parts. Each part is shuffled.

    Needs scikit-learn, the optional extra ``digits``: ``pip install "minigrad-cnn[digits]"``.

    Parameters
    ----------
    test_fraction : float
        Share of each digit's images that go to the test set, strictly between 0 and 1.
    seed : int or None
        Seed of ``numpy.random.default_rng`` for the split and the shuffles.

    Returns
    -------
    x_train : numpy.ndarray
        float32, shape (N_train, 1, 8, 8), values in [0, 1].
    y_train : numpy.ndarray
        int64, shape (N_train,), digits 0-9.
    x_test : numpy.ndarray
        float32, shape (N_test, 1, 8, 8), values in [0, 1].
    y_test : numpy.ndarray
        int64, shape (N_test,).

    Raises
    ------
    ImportError
        When scikit-learn is not installed; the message names the extra to install.

    Examples
    --------
    >>> x_train, y_train, x_test, y_test = load_digits(test_fraction=0.2)  # doctest: +SKIP
    >>> x_train.shape, x_test.shape                                         # doctest: +SKIP
    ((1438, 1, 8, 8), (359, 1, 8, 8))
    """
    if not (0.0 < float(test_fraction) < 1.0):
        raise ValueError(
            f"load_digits: test_fraction must be strictly between 0 and 1, got {test_fraction}"
        )
    try:
        from sklearn import datasets as sk_datasets
    except ImportError as err:
        raise ImportError(
            "load_digits needs scikit-learn, which is the optional extra 'digits' of minigrad: "
            f"{_DIGITS_EXTRA_HINT}"
        ) from err

    bunch = sk_datasets.load_digits()
    images = (np.asarray(bunch.images, dtype=np.float32) / 16.0)[:, None, :, :]  # (N,1,8,8)
    targets = np.asarray(bunch.target, dtype=np.int64)

    rng = np.random.default_rng(seed)
    test_parts, train_parts = [], []
    for digit in np.unique(targets):
        members = rng.permutation(np.flatnonzero(targets == digit))
        n_test = round(float(test_fraction) * members.size)
        test_parts.append(members[:n_test])
        train_parts.append(members[n_test:])
    train_idx = rng.permutation(np.concatenate(train_parts))
    test_idx = rng.permutation(np.concatenate(test_parts))
    return images[train_idx], targets[train_idx], images[test_idx], targets[test_idx]


# ---------------------------------------------------------------------------------------------
# MNIST-format IDX files

_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (the MNIST format), plain or gzip-compressed.

    The header is two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions, then each dimension as a big-endian
    uint32; the data follows, big-endian, in row-major order. A gzip file (recognised by its
    own magic bytes, whatever its name) is decompressed in memory first.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    Returns
    -------
    numpy.ndarray
        An array with the header's shape and the type code's dtype, in native byte order,
        e.g. uint8 of shape (60000, 28, 28) for MNIST training images.

    Raises
    ------
    ValueError
        When the magic number is wrong or the file size does not match its header (the message
        gives the path, the expected and the actual number of bytes).

    Examples
    --------
    >>> images = read_idx("train-images-idx3-ubyte.gz")   # doctest: +SKIP
    >>> images.shape, images.dtype                          # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    """
    path = Path(path)
    raw = path.read_bytes()
    compressed = raw[:2] == b"\x1f\x8b"
    if compressed:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise ValueError(
                f"read_idx: {path} looks gzip-compressed but cannot be decompressed: {err}"
            ) from err
    what = "decompressed size" if compressed else "size"

    if len(raw) < 4:
        raise ValueError(
            f"read_idx: {path} is too short for an IDX header: {what} {len(raw)} bytes, "
            "expected at least 4"
        )
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(
            f"read_idx: {path} has a bad magic number 0x{raw[:4].hex()}; an IDX file starts with "
            "two zero bytes, a type code (08, 09, 0b, 0c, 0d or 0e) and the number of dimensions"
        )
    dtype = _IDX_TYPES[raw[2]]
    ndim = raw[3]
    header_bytes = 4 + 4 * ndim
    if len(raw) < header_bytes:
        raise ValueError(
            f"read_idx: {path} is truncated inside its header: expected at least {header_bytes} "
            f"bytes for {ndim} dimensions, got {len(raw)} ({what})"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header_bytes + math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"read_idx: {path} does not match its header (shape {shape}, dtype {dtype.name}): "
            f"expected {expected} bytes, got {len(raw)} ({what})"
        )
    data = np.frombuffer(raw, dtype=dtype, count=math.prod(shape), offset=header_bytes)
    return data.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


_MNIST_STEMS = {
    "train": ("train-images", "train-labels"),
    "test": ("t10k-images", "t10k-labels"),
}


def _mnist_candidates(stem: str, ndim: int) -> list[str]:
    names = []
    for sep in (
        "-",
        ".",
    ):  # "train-images-idx3-ubyte" and the also common "train-images.idx3-ubyte"
        base = f"{stem}{sep}idx{ndim}-ubyte"
        names += [base, base + ".gz"]
    return names


def load_mnist(
    directory: str | os.PathLike[str], kind: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST (or Fashion-MNIST) from IDX files already in a directory. Never downloads.

    Looks for ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (``kind="train"``) or
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (``kind="test"``), each also with
    a ``.gz`` suffix or with a dot before ``idx``.

    Parameters
    ----------
    directory : str or os.PathLike
        Directory holding the files.
    kind : {"train", "test"}
        Which split to load.

    Returns
    -------
    images : numpy.ndarray
        float32, shape (N, 1, 28, 28), values in [0, 1] (uint8 pixels divided by 255).
    labels : numpy.ndarray
        int64, shape (N,).

    Raises
    ------
    FileNotFoundError
        When a file is missing; the message lists every name that was looked for.

    Examples
    --------
    >>> images, labels = load_mnist("~/data/mnist", kind="test")   # doctest: +SKIP
    >>> images.shape, labels.shape                                  # doctest: +SKIP
    ((10000, 1, 28, 28), (10000,))
    """
    if kind not in _MNIST_STEMS:
        raise ValueError(f"load_mnist: kind must be 'train' or 'test', got {kind!r}")
    directory = Path(directory).expanduser()
    found = []
    for stem, ndim in zip(_MNIST_STEMS[kind], (3, 1), strict=True):
        candidates = _mnist_candidates(stem, ndim)
        match = next((directory / n for n in candidates if (directory / n).is_file()), None)
        if match is None:
            raise FileNotFoundError(
                f"load_mnist: no {stem} file for kind={kind!r} in {directory}; looked for "
                + ", ".join(candidates)
                + ". minigrad never downloads data: put the MNIST IDX files there first."
            )
        found.append(match)

    images, labels = read_idx(found[0]), read_idx(found[1])
    if images.ndim != 3 or labels.ndim != 1:
        raise ValueError(
            f"load_mnist: expected images of shape (N, H, W) and labels of shape (N,), got "
            f"{images.shape} from {found[0]} and {labels.shape} from {found[1]}"
        )
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"load_mnist: {found[0]} holds {images.shape[0]} images but {found[1]} holds "
            f"{labels.shape[0]} labels"
        )
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    x = (images.astype(np.float32) / np.float32(scale))[:, None, :, :]  # (N,H,W) -> (N,1,H,W)
    return x, labels.astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Batching


class DataLoader:
    """Iterate over (x, y) in mini-batches, reshuffled every epoch.

    Shuffling draws from a ``numpy.random.default_rng(seed)`` created once with the loader, so
    each epoch (each ``iter(loader)``) has a new order, and two loaders with the same seed go
    through the same sequence of orders. ``seed=None`` gives an unpredictable sequence.

    Parameters
    ----------
    x : numpy.ndarray
        Inputs, shape (N, ...).
    y : numpy.ndarray
        Targets, shape (N, ...): the same N as ``x``.
    batch_size : int
        Samples per batch; the last batch may be smaller unless ``drop_last``.
    shuffle : bool
        Whether to visit the samples in a new random order each epoch.
    seed : int or None
        Seed of the shuffling generator.
    drop_last : bool
        Whether to skip a final batch smaller than ``batch_size``.

    Yields
    ------
    x_batch : numpy.ndarray
        Shape (B, ...), B <= batch_size.
    y_batch : numpy.ndarray
        Shape (B, ...). Without shuffling, batches are views of ``x`` and ``y``.

    Examples
    --------
    >>> x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> loader = DataLoader(x, y, batch_size=2, shuffle=False)
    >>> len(loader), [yb.tolist() for _, yb in loader]
    (3, [[0, 1], [2, 3], [4]])
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        drop_last: bool = False,
    ) -> None:
        x = np.asarray(x)
        y = np.asarray(y)
        if x.ndim == 0 or y.ndim == 0 or x.shape[0] != y.shape[0]:
            raise ValueError(
                f"DataLoader: x and y must have the same first dimension (number of samples), "
                f"got x.shape={x.shape} and y.shape={y.shape}"
            )
        self.x = x
        self.y = y
        self.batch_size = _check_positive_int("DataLoader", "batch_size", batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        """Number of batches per epoch."""
        n = self.x.shape[0]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        # draw the epoch's order now, not at the first next(), so epochs follow iter() calls
        order = self._rng.permutation(self.x.shape[0]) if self.shuffle else None
        return self._batches(order)

    def _batches(self, order: np.ndarray | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = self.x.shape[0]
        for b in range(len(self)):
            start, stop = b * self.batch_size, min((b + 1) * self.batch_size, n)
            if order is None:
                yield self.x[start:stop], self.y[start:stop]
            else:
                idx = order[start:stop]
                yield self.x[idx], self.y[idx]

    def __repr__(self) -> str:
        return (
            f"DataLoader(samples={self.x.shape[0]}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )
