"""Helpers shared by the built-in primitives: argument checks and error messages."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ..autograd import apply
from ..op import Op
from ..tensor import Tensor, as_tensor

_builtin_max = builtins.max


def _const(arr: np.ndarray) -> Tensor:
    return Tensor._new(arr, None, False)


def _broadcast_error(name: str, a: np.ndarray, b: np.ndarray) -> ValueError:
    return ValueError(
        f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast together "
        "(trailing dimensions must be equal or 1)"
    )


def _broadcast(name: str, fn: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return fn(a, b)
    except ValueError:
        raise _broadcast_error(name, a, b) from None


def _norm_axis(axis: Any, ndim: int, name: str) -> tuple[int, ...] | None:
    if axis is None:
        return None
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer, tuple, list)):
        raise TypeError(
            f"{name}: axis must be an int or a tuple of ints, got {type(axis).__name__} {axis!r}"
        )
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise TypeError(
                f"{name}: axis must be an int or a tuple of ints, got {axis!r} "
                f"(holding {type(a).__name__})"
            )
    if ndim == 0:
        # as in PyTorch, a 0-d tensor accepts axis 0 or -1 and reduces over nothing
        bad = [a for a in axes if a not in (0, -1)]
        if bad:
            raise ValueError(f"{name}: axis {bad[0]} is out of range for a 0-D tensor")
        return ()
    out = []
    for a in axes:
        if not -ndim <= a < _builtin_max(ndim, 1):
            raise ValueError(f"{name}: axis {a} is out of range for a {ndim}-D tensor")
        out.append(int(a) % _builtin_max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: axis {axis!r} repeats an axis of a {ndim}-D tensor")
    return tuple(out)


def _binary(op: type[Op], a: Any, b: Any) -> Tensor:
    if type(a) is Tensor and type(b) is Tensor:
        return apply(op, (a, b), {})
    if isinstance(a, Tensor):
        return apply(op, (a, as_tensor(b, like=a)), {})
    b = as_tensor(b)
    return apply(op, (as_tensor(a, like=b), b), {})


def _shape_arg(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(map(int, shape))  # map: no generator frame (every expand/reshape call)
