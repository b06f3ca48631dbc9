"""X vs O on 9x9 images, pixels +1 (stroke) and -1 (background), as in the classic "how a
CNN works" explainers: the canonical pictures, the three 3x3 features, matching scores and
maps, and a generator of shifted, scaled, thicker and turned variants."""

from __future__ import annotations

import math

import numpy as np

from ._ascii_art import _FEATURE_ART, _O9_ART, _X9_ART, _check_positive_int, _from_art
from .shapes import _random_shift_inside, _render_ring, _render_x

__all__ = [
    "XO_CLASSES",
    "canonical_o",
    "canonical_x",
    "match_map",
    "match_score",
    "xo_features",
    "xo_images",
]


XO_CLASSES: tuple[str, str] = ("O", "X")
"""Class names of :func:`xo_images`, indexed by label: 0 is "O", 1 is "X"."""


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
    # over 60 lines only because of its docstring; the code is 32 lines
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
