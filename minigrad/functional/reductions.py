"""Reductions: sum, mean, max, min (over all axes or some, optionally keeping them)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import apply
from ..op import Context, Op
from ..tensor import Tensor, as_tensor
from ._common import _add_reduce, _const, _expand_array, _norm_axis, _x
from .shape import expand

__all__ = ["max", "mean", "min", "sum"]


def _unreduce(
    grad: Tensor, in_shape: tuple[int, ...], axes: tuple[int, ...] | None, keepdims: bool
) -> Tensor:
    """Bring a reduction's output gradient back to the input's shape (reshape, then expand)."""
    if not keepdims and axes is not None:
        kept = [1 if i in axes else n for i, n in enumerate(in_shape)]
        grad = grad.reshape(tuple(kept))
    return expand(grad, in_shape)  # a full reduction's 0-d gradient broadcasts as it is


def _unreduce_array(
    grad: np.ndarray, in_shape: tuple[int, ...], axes: tuple[int, ...] | None, keepdims: bool
) -> np.ndarray:
    """:func:`_unreduce` on arrays (the first-order backward of sum and mean)."""
    if not keepdims and axes is not None:
        grad = grad.reshape([1 if i in axes else n for i, n in enumerate(in_shape)])
    return _expand_array(grad, in_shape)


class Sum(Op):
    name = "sum"
    _core = True
    formula = "dx = broadcast(dy, x.shape)"

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, *, axis: Any = None, keepdims: bool = False
    ) -> np.ndarray:
        # ufunc.reduce is np.sum without its Python-level dispatch (same result and dtype)
        return _add_reduce(x, _norm_axis(axis, x.ndim, "sum"), keepdims)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x = _x(ctx)
        axes = _norm_axis(ctx.attrs["axis"], x.ndim, "sum")
        return _unreduce(grad, x.shape, axes, ctx.attrs["keepdims"])

    @staticmethod
    def _array_backward(ctx: Context, grad: np.ndarray) -> tuple:
        x = _x(ctx)
        axes = _norm_axis(ctx.attrs["axis"], x.ndim, "sum")
        return (_unreduce_array(grad, x.shape, axes, ctx.attrs["keepdims"]),)


class Mean(Op):
    name = "mean"
    _core = True
    formula = "dx = broadcast(dy, x.shape) / n"

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, *, axis: Any = None, keepdims: bool = False
    ) -> np.ndarray:
        axes = _norm_axis(axis, x.ndim, "mean")
        count = x.size if axes is None else math.prod([x.shape[a] for a in axes])
        if count == 0:  # the mean of no numbers is NaN (as numpy and PyTorch), without a warning
            total = _add_reduce(x, axes, keepdims)
            return np.full(np.shape(total), np.nan, np.result_type(total.dtype, np.float16))
        if x.dtype in (np.float32, np.float64):
            return _add_reduce(x, axes, keepdims) / x.dtype.type(count)
        return np.mean(x, axis=axes, keepdims=keepdims)  # float16 accumulates wider, ints -> float

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x = _x(ctx)
        axes = _norm_axis(ctx.attrs["axis"], x.ndim, "mean")
        count = x.size if axes is None else math.prod([x.shape[a] for a in axes])
        return _unreduce(grad, x.shape, axes, ctx.attrs["keepdims"]) / float(count)

    @staticmethod
    def _array_backward(ctx: Context, grad: np.ndarray) -> tuple:
        x = _x(ctx)
        axes = _norm_axis(ctx.attrs["axis"], x.ndim, "mean")
        count = x.size if axes is None else math.prod([x.shape[a] for a in axes])
        return (_unreduce_array(grad, x.shape, axes, ctx.attrs["keepdims"]) / float(count),)


def _extremum(ctx: Context, reduce: Any, x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    """Forward of the max/min reductions; saves x and the kept-dims result for backward."""
    name = ctx.name
    axes = _norm_axis(axis, x.ndim, name)
    if x.size == 0:
        raise ValueError(f"{name}: cannot reduce an empty tensor of shape {x.shape}")
    out = reduce(x, axis=axes, keepdims=True)
    ctx.save_for_backward(x, out)
    return out if keepdims else (out.reshape(()) if axes is None else np.squeeze(out, axes))


def _extremum_backward(ctx: Context, grad: Tensor) -> Tensor:
    """Ties share the gradient evenly (as PyTorch's amax/amin); where the result is NaN, the
    NaN entries share it (as PyTorch's ``max()``)."""
    x, out = ctx.saved_arrays
    axes = _norm_axis(ctx.attrs["axis"], x.ndim, ctx.name)
    mask = x == out
    if x.dtype.kind in "fc":  # a NaN result came from the NaN entries: they get the gradient
        mask |= np.isnan(x) & np.isnan(out)
    share = (mask / mask.sum(axis=axes, keepdims=True)).astype(grad.dtype)
    return _unreduce(grad, x.shape, axes, ctx.attrs["keepdims"]) * _const(share)


class Max(Op):
    name = "max"
    _core = True
    formula = "dx = broadcast(dy) * (x == max) / count(x == max)"

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, *, axis: Any = None, keepdims: bool = False
    ) -> np.ndarray:
        return _extremum(ctx, np.max, x, axis, keepdims)

    backward = staticmethod(_extremum_backward)


class Min(Op):
    name = "min"
    _core = True
    formula = "dx = broadcast(dy) * (x == min) / count(x == min)"

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, *, axis: Any = None, keepdims: bool = False
    ) -> np.ndarray:
        return _extremum(ctx, np.min, x, axis, keepdims)

    backward = staticmethod(_extremum_backward)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (all axes by default)."""
    return apply(Sum, (as_tensor(x),), {"axis": axis, "keepdims": keepdims})


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (all axes by default)."""
    return apply(Mean, (as_tensor(x),), {"axis": axis, "keepdims": keepdims})


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis``; tied maxima share the gradient evenly."""
    return apply(Max, (as_tensor(x),), {"axis": axis, "keepdims": keepdims})


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis``; tied minima share the gradient evenly."""
    return apply(Min, (as_tensor(x),), {"axis": axis, "keepdims": keepdims})
