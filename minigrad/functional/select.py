"""Comparisons (no gradient), clamping, elementwise maximum/minimum and ``where``."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..autograd import apply
from ..op import Context, Op
from ..tensor import Tensor, as_tensor, new_tensor
from ._common import _binary, _broadcast, _const, _floating, _promote, _x

__all__ = [
    "clip",
    "eq",
    "ge",
    "gt",
    "le",
    "lt",
    "maximum",
    "minimum",
    "ne",
    "where",
]


class Clip(Op):
    """Clamp to [min, max]; the gradient passes where min <= x <= max (boundaries included).

    As in PyTorch, ``min > max`` sets every element to ``max`` (no gradient passes) and a NaN
    stays NaN.
    """

    name = "clip"
    _core = True
    formula = "dx = dy * (min <= x <= max)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, min: Any = None, max: Any = None) -> np.ndarray:
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given")
        if isinstance(min, (float, np.floating)) or isinstance(max, (float, np.floating)):
            x = _floating(x)  # an integer tensor clipped to 2.5 is not truncated to 2
        ctx.save_for_backward(x)
        out = x if min is None else np.maximum(x, min)
        out = out if max is None else np.minimum(out, max)  # min > max: everything is max
        return np.asarray(out).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x = ctx.saved_arrays[0]
        lo, hi = ctx.attrs["min"], ctx.attrs["max"]
        keep = np.ones(x.shape, dtype=bool)
        if lo is not None:
            keep &= x >= lo
        if hi is not None:
            keep &= x <= hi
        return grad * _const(keep.astype(grad.dtype))


def _tie_split(ctx: Context, grad: Tensor, loses: Any) -> tuple:
    """Gradient of an elementwise maximum/minimum, as PyTorch's: an operand gets none where
    it loses, half where the two tie, all of it otherwise; so where one is NaN (the result
    is NaN) both get the whole gradient."""
    a, b = ctx.saved_arrays
    half = 0.5 * (a == b)
    share_a = (1 - loses(a, b) - half).astype(grad.dtype)
    share_b = (1 - loses(b, a) - half).astype(grad.dtype)
    return grad * _const(share_a), grad * _const(share_b)


class Maximum(Op):
    name = "maximum"
    _core = True
    formula = "da = dy * (1 - (a < b) - (a == b) / 2), db = dy * (1 - (b < a) - (a == b) / 2)"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.dtype is not b.dtype:
            a, b = _promote(a, b)
        ctx.save_for_backward(a, b)
        return _broadcast("maximum", np.maximum, a, b)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return _tie_split(ctx, grad, np.less)


class Minimum(Op):
    name = "minimum"
    _core = True
    formula = "da = dy * (1 - (a > b) - (a == b) / 2), db = dy * (1 - (b > a) - (a == b) / 2)"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.dtype is not b.dtype:
            a, b = _promote(a, b)
        ctx.save_for_backward(a, b)
        return _broadcast("minimum", np.minimum, a, b)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return _tie_split(ctx, grad, np.greater)


class Where(Op):
    """Pick from ``a`` where ``cond`` is true, else from ``b`` (``cond`` gets no gradient)."""

    name = "where"
    _core = True
    formula = "da = where(cond, dy, 0), db = where(cond, 0, dy)"

    @staticmethod
    def forward(ctx: Context, cond: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if cond.dtype != np.bool_:
            raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
        if a.dtype is not b.dtype:
            a, b = _promote(a, b)
        try:
            return np.where(cond, a, b)
        except ValueError:
            raise ValueError(
                f"where: shapes {cond.shape}, {a.shape} and {b.shape} cannot be broadcast together"
            ) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        cond = _x(ctx)
        zero = as_tensor(0.0, like=grad)
        _, need_a, need_b = ctx.needs_input_grad
        return (
            None,
            where(cond, grad, zero) if need_a else None,
            where(cond, zero, grad) if need_b else None,
        )


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:
    """Clamp values to [min, max]. ``mg.clip(mg.tensor([-1.0, 5.0]), 0, 1)`` -> tensor([0., 1.])"""
    return apply(Clip, (as_tensor(x),), {"min": min, "max": max})


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum (ties split the gradient). ``mg.maximum(x, 0.0)`` is a ReLU."""
    return _binary(Maximum, a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum (ties split the gradient)."""
    return _binary(Minimum, a, b)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` else ``b``. ``mg.where(x > 0, x, 0.0)``"""
    cond = as_tensor(cond)
    if isinstance(a, Tensor):
        b = as_tensor(b, like=a)
    else:
        b = as_tensor(b)
        a = as_tensor(a, like=b)
    return apply(Where, (cond, a, b), {})


def _compare(fn: Any, a: Tensor, b: Any) -> Tensor:
    o = b.data if isinstance(b, Tensor) else b
    try:
        return new_tensor(np.asarray(fn(a.data, o)))
    except ValueError:
        raise ValueError(
            f"comparison: shapes {a.shape} and {np.shape(o)} cannot be broadcast together"
        ) from None


def lt(a: Tensor, b: Any) -> Tensor:
    """``a < b`` as a bool tensor (no gradient)."""
    return _compare(operator.lt, a, b)


def le(a: Tensor, b: Any) -> Tensor:
    """``a <= b`` as a bool tensor (no gradient)."""
    return _compare(operator.le, a, b)


def gt(a: Tensor, b: Any) -> Tensor:
    """``a > b`` as a bool tensor (no gradient)."""
    return _compare(operator.gt, a, b)


def ge(a: Tensor, b: Any) -> Tensor:
    """``a >= b`` as a bool tensor (no gradient)."""
    return _compare(operator.ge, a, b)


def eq(a: Tensor, b: Any) -> Tensor:
    """``a == b`` elementwise, as a bool tensor (no gradient)."""
    return _compare(operator.eq, a, b)


def ne(a: Tensor, b: Any) -> Tensor:
    """``a != b`` elementwise, as a bool tensor (no gradient)."""
    return _compare(operator.ne, a, b)
