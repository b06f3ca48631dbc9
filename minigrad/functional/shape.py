"""Shape: reshape, transpose, broadcast (expand) and its adjoint, casts, joins, padding."""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import apply
from ..op import Context, Op
from ..tensor import Tensor, as_tensor
from ._common import _expand_array, _shape_arg, _sum_to_array, _x

__all__ = [
    "astype",
    "concatenate",
    "expand",
    "flatten",
    "pad",
    "reshape",
    "stack",
    "sum_to",
    "transpose",
]

_builtin_max = builtins.max


class Reshape(Op):
    name = "reshape"
    _core = True
    formula = "dx = reshape(dy, x.shape)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                f"into shape {tuple(shape)}"
            ) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return grad.reshape(_x(ctx).shape)


class Transpose(Op):
    name = "transpose"
    _core = True
    formula = "dx = transpose(dy, inverse(axes))"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, axes: tuple[int, ...] | None = None) -> np.ndarray:
        if axes is not None and sorted(a % _builtin_max(x.ndim, 1) for a in axes) != list(
            range(x.ndim)
        ):
            raise ValueError(
                f"transpose: axes {tuple(axes)} are not a permutation of a {x.ndim}-D tensor's axes"
            )
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        axes = ctx.attrs["axes"]
        if axes is None:
            return grad.transpose()
        n = len(axes)
        return grad.transpose(tuple(int(i) for i in np.argsort([a % n for a in axes])))


class Expand(Op):
    """Broadcast to a larger shape (numpy's broadcast_to); the gradient sums back."""

    name = "expand"
    _core = True
    formula = "dx = sum_to(dy, x.shape)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
        return _expand_array(x, shape)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return sum_to(grad, _x(ctx).shape)


class SumTo(Op):
    """Sum a broadcast array back down to ``shape`` (the adjoint of expand)."""

    name = "sum_to"
    _core = True
    formula = "dx = expand(dy, x.shape)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
        return _sum_to_array(x, shape)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return expand(grad, _x(ctx).shape)


class AsType(Op):
    """Cast between float dtypes; the gradient is cast back."""

    name = "astype"
    _core = True
    formula = "dx = astype(dy, x.dtype)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, dtype: Any) -> np.ndarray:
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return astype(grad, _x(ctx).dtype)


class Concatenate(Op):
    name = "concatenate"
    _core = True
    formula = "dx_i = dy[the slice of x_i along axis]"

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, axis: int = 0) -> np.ndarray:
        try:
            return np.concatenate(arrays, axis=axis)
        except (ValueError, np.exceptions.AxisError) as e:
            raise ValueError(
                f"concatenate: cannot join shapes {[a.shape for a in arrays]} "
                f"along axis {axis}: {e}"
            ) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        axis = ctx.attrs["axis"] % grad.ndim
        grads, start = [], 0
        for t, need in zip(ctx.inputs, ctx.needs_input_grad):
            assert t is not None  # concatenate's inputs are all required
            stop = start + t.shape[axis]
            index = (slice(None),) * axis + (slice(start, stop),)
            grads.append(grad[index] if need else None)
            start = stop
        return tuple(grads)


class Stack(Op):
    name = "stack"
    _core = True
    formula = "dx_i = dy[i along axis]"

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, axis: int = 0) -> np.ndarray:
        try:
            return np.stack(arrays, axis=axis)
        except (ValueError, np.exceptions.AxisError) as e:
            raise ValueError(
                f"stack: cannot stack shapes {[a.shape for a in arrays]} along axis {axis}: {e}"
            ) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        axis = ctx.attrs["axis"] % grad.ndim
        return tuple(
            grad[(slice(None),) * axis + (i,)] if need else None
            for i, need in enumerate(ctx.needs_input_grad)
        )


def _pad_widths(pad_width: Any, shape: tuple[int, ...]) -> np.ndarray:
    """numpy's pad_width forms ((b, a) per axis, (b, a), or one int) as an (ndim, 2) array."""
    try:
        widths = np.asarray(pad_width)
        if (
            widths.dtype.kind not in "iu"
            or widths.ndim > 2
            or widths.shape[-1:]
            not in (
                (),
                (1,),
                (2,),
            )
        ):
            raise ValueError
        return np.broadcast_to(widths.astype(np.int64), (len(shape), 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit a {len(shape)}-D tensor of shape "
            f"{shape}: expected one (before, after) pair of ints per axis ({len(shape)} pairs), "
            "one pair for every axis, or one int"
        ) from None


class Pad(Op):
    """Constant padding; ``pad_width`` as numpy's ((before, after), ...) per axis."""

    name = "pad"
    _core = True
    formula = "dx = dy[the unpadded window]"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, pad_width: Any, value: float = 0.0) -> np.ndarray:
        widths = _pad_widths(pad_width, x.shape)
        if (widths < 0).any():
            raise ValueError(f"pad: pad widths must be >= 0, got {pad_width!r}")
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x = _x(ctx)
        widths = _pad_widths(ctx.attrs["pad_width"], x.shape)
        return grad[tuple(slice(int(b), int(b) + n) for (b, _), n in zip(widths, x.shape))]


def reshape(x: Any, *shape: Any) -> Tensor:
    """Reshape (one dimension may be -1). ``mg.reshape(x, 2, 3)`` or ``x.reshape((2, 3))``"""
    return apply(Reshape, (as_tensor(x),), {"shape": _shape_arg(shape)})


def transpose(x: Any, *axes: Any) -> Tensor:
    """Permute axes (reverse them by default), as numpy's ``transpose``."""
    ax = _shape_arg(axes) if axes else None
    return apply(Transpose, (as_tensor(x),), {"axes": ax})


def expand(x: Any, *shape: Any) -> Tensor:
    """Broadcast to ``shape`` without copying; the gradient sums back."""
    x = as_tensor(x)
    shape = _shape_arg(shape)
    if shape == x.shape:
        return x
    return apply(Expand, (x,), {"shape": shape})


def sum_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum a broadcast tensor down to ``shape`` (the engine's broadcast reduction)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return apply(SumTo, (x,), {"shape": shape})


def astype(x: Tensor, dtype: Any) -> Tensor:
    """Cast to another dtype (differentiable between float dtypes)."""
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    return apply(AsType, (x,), {"dtype": dtype})


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis. ``mg.concatenate([a, b], axis=1)``"""
    if isinstance(tensors, Tensor) or not len(tensors):
        raise ValueError("concatenate: expected a non-empty sequence of tensors")
    return apply(Concatenate, tuple(as_tensor(t) for t in tensors), {"axis": axis})


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along a new axis. ``mg.stack([a, b])``"""
    if isinstance(tensors, Tensor) or not len(tensors):
        raise ValueError("stack: expected a non-empty sequence of tensors")
    return apply(Stack, tuple(as_tensor(t) for t in tensors), {"axis": axis})


def pad(x: Any, pad_width: Any, value: float = 0.0) -> Tensor:
    """Pad with a constant; ``pad_width`` as numpy's (per axis ``(before, after)``)."""
    return apply(Pad, (as_tensor(x),), {"pad_width": pad_width, "value": value})


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one.

    ``x.flatten(1)`` turns (N, C, H, W) into (N, C*H*W).
    """
    x = as_tensor(x)
    nd = _builtin_max(x.ndim, 1)
    s, e = start_dim % nd, end_dim % nd
    if s > e:
        raise ValueError(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}"
        )
    shape = (*x.shape[:s], math.prod(x.shape[s : e + 1]), *x.shape[e + 1 :])
    return x.reshape(shape) if x.ndim else x.reshape((1,))
