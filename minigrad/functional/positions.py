"""Where the extremes are, and size-1 axes: argmax, argmin (no gradient), squeeze, unsqueeze.

``squeeze`` and ``unsqueeze`` are reshapes (the graph shows a ``reshape`` node, and gradients
flow through it); ``argmax`` and ``argmin`` return int64 indices, which carry no gradient.
PyTorch's semantics: ties give the first index, ``squeeze`` of an axis whose size is not 1
leaves it alone.

>>> import minigrad as mg
>>> x = mg.tensor([[1.0, 5.0, 5.0], [7.0, 0.0, 2.0]])
>>> argmax(x, axis=1).data, argmin(x).item()
(array([1, 0]), 4)
>>> unsqueeze(x, 0).shape, squeeze(unsqueeze(x, -1)).shape
((1, 2, 3), (2, 3))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, as_tensor, new_tensor
from ._common import _norm_axis
from .shape import reshape

__all__ = ["argmax", "argmin", "squeeze", "unsqueeze"]


def _arg_extreme(name: str, fn: Any, x: Any, axis: Any, keepdims: bool) -> Tensor:
    x = as_tensor(x)
    if axis is not None and (isinstance(axis, bool) or not isinstance(axis, (int, np.integer))):
        raise TypeError(f"{name}: axis must be an int or None, got {axis!r}")
    axes = _norm_axis(axis, x.ndim, name)
    if x.size == 0:
        raise ValueError(f"{name}: the input of shape {x.shape} is empty; there is no extreme")
    if x.ndim == 0:
        return new_tensor(np.zeros((), dtype=np.int64))
    ax = None if axes is None else axes[0]
    if axes is not None and x.shape[ax] == 0:
        raise ValueError(f"{name}: axis {axis} of the input of shape {x.shape} is empty")
    out = fn(x.data, axis=ax, keepdims=bool(keepdims))
    return new_tensor(np.asarray(out, dtype=np.int64))


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Indices of the maxima along ``axis`` (of the flattened tensor when None); int64, no grad.

    >>> import minigrad as mg
    >>> argmax(mg.tensor([[1.0, 3.0], [4.0, 2.0]]), axis=0, keepdims=True).data
    array([[1, 0]])
    """
    return _arg_extreme("argmax", np.argmax, x, axis, keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Indices of the minima along ``axis`` (of the flattened tensor when None); int64, no grad.

    >>> import minigrad as mg
    >>> argmin(mg.tensor([[1.0, 3.0], [4.0, 2.0]]), axis=1).data
    array([0, 1])
    """
    return _arg_extreme("argmin", np.argmin, x, axis, keepdims)


def squeeze(x: Any, axis: int | tuple[int, ...] | None = None) -> Tensor:
    """Drop size-1 axes: all of them, or those of ``axis`` that have size 1 (others are kept).

    >>> import minigrad as mg
    >>> squeeze(mg.zeros(1, 3, 1)).shape, squeeze(mg.zeros(1, 3, 1), 1).shape
    ((3,), (1, 3, 1))
    """
    x = as_tensor(x)
    axes = _norm_axis(axis, x.ndim, "squeeze")
    if axes is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    drop = {a for a in axes if x.ndim and x.shape[a] == 1}
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in drop))


def unsqueeze(x: Any, axis: int) -> Tensor:
    """Insert a size-1 axis at position ``axis`` (``-ndim - 1 <= axis <= ndim``).

    >>> import minigrad as mg
    >>> unsqueeze(mg.zeros(2, 3), 1).shape, unsqueeze(mg.zeros(2, 3), -1).shape
    ((2, 1, 3), (2, 3, 1))
    """
    x = as_tensor(x)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"unsqueeze: axis must be an int, got {axis!r}")
    n = x.ndim + 1
    if not -n <= axis < n:
        raise ValueError(
            f"unsqueeze: axis {axis} is out of range for a {x.ndim}-D tensor of shape "
            f"{x.shape}; expected {-n} <= axis <= {n - 1}"
        )
    a = int(axis) % n
    return reshape(x, (*x.shape[:a], 1, *x.shape[a:]))
