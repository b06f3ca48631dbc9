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

Files by job: ``xo`` (X/O images), ``x5`` (X or not X), ``shapes`` (drawing from geometry),
``sklearn_digits`` (scikit-learn's digits), ``idx`` (IDX files and MNIST), ``loader``.

>>> import minigrad as mg
>>> mg.data.digits()  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
AttributeError: module 'minigrad.data' has no attribute 'digits'; ... mg.data.load_digits(...
"""

from __future__ import annotations

from .idx import load_mnist, read_idx
from .loader import DataLoader
from .sklearn_digits import load_digits
from .x_on_5x5 import canonical_x5, x_or_not_x
from .xo import (
    XO_CLASSES,
    canonical_o,
    canonical_x,
    match_map,
    match_score,
    xo_features,
    xo_images,
)

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

# names a user may reach for, and the function that does it
_SEE_INSTEAD = {
    "digits": "the 8x8 digits are loaded by mg.data.load_digits(test_fraction=0.2, seed=0), "
    "which returns x_train, y_train, x_test, y_test",
    "mnist": "MNIST is read from IDX files you already have by mg.data.load_mnist(directory, "
    "kind='train'), which returns images, labels (nothing is downloaded)",
}


def __getattr__(name: str) -> object:
    hint = _SEE_INSTEAD.get(name)
    raise AttributeError(
        f"module 'minigrad.data' has no attribute {name!r}" + (f"; {hint}" if hint else "")
    )


def __dir__() -> list[str]:
    return sorted(__all__)  # the public names only (tab completion)
