"""Argument handling shared by the pooling ops: window attributes, geometry, offsets."""

from __future__ import annotations

from typing import Any

import numpy as np

import minigrad as mg
from minigrad import Context, Tensor

from ._args import check_input, size_attr
from ._dtypes import check_float
from ._kernels.geometry import PoolGeometry, pair, pool2d_geometry

Size = int | tuple[int, int]


def _window_attrs(ctx: Context) -> dict[str, Any]:
    """The window attributes of a call, for the companion ops of its backward pass."""
    attrs = {k: size_attr(ctx.attrs[k]) for k in ("kernel_size", "stride", "padding")}
    attrs["ceil_mode"] = bool(ctx.attrs["ceil_mode"])
    if "count_include_pad" in ctx.attrs:
        attrs["count_include_pad"] = bool(ctx.attrs["count_include_pad"])
    return attrs


def _check_flag(op: str, name: str, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be True or False, got {value!r}")


def _geometry(
    op: str,
    x_shape: tuple[int, ...],
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: Any,
) -> PoolGeometry:
    """Validated window geometry of pooling an input of ``x_shape``; errors name ``op``."""
    check_input(op, x_shape)
    _check_flag(op, "ceil_mode", ceil_mode)
    return pool2d_geometry(x_shape, kernel_size, stride, padding, ceil_mode, op=op)


def _unpool_geometry(
    op: str,
    grad: np.ndarray,
    x_hw: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: Any,
) -> PoolGeometry:
    """Geometry of the pooling whose output ``grad`` spreads back to an (H, W) = ``x_hw`` map."""
    check_input(op, grad.shape, "grad")
    h, w = pair(x_hw, "x_hw", op=op)
    x_shape = (grad.shape[0], grad.shape[1], h, w)
    g = _geometry(op, x_shape, kernel_size, stride, padding, ceil_mode)
    if grad.shape != g.out_shape:
        raise ValueError(
            f"{op}: grad has shape {grad.shape} but pooling an input of shape {x_shape} "
            f"(kernel_size {g.kernel}, stride {g.stride}, padding {g.padding}, "
            f"ceil_mode={g.ceil_mode}) gives shape {g.out_shape}; check x_hw and the attributes"
        )
    return g


def _pooled_input(op: str, x: np.ndarray, *window: Any) -> PoolGeometry:
    """Check a pooling op's input ``x`` (its dtype, then its shape and the window attributes).

    ``window`` is ``kernel_size, stride, padding, ceil_mode``.

    >>> _pooled_input("sum_pool2d", np.zeros((1, 1, 4, 4)), 2, None, 0, False).out_shape
    (1, 1, 2, 2)
    """
    check_float(op, "x", x)
    return _geometry(op, x.shape, *window)


def _unpooled_grad(op: str, grad: np.ndarray, x_hw: Any, *window: Any) -> PoolGeometry:
    """Check an unpooling op's ``grad`` (its dtype, then its shape against ``x_hw``).

    ``window`` is ``kernel_size, stride, padding, ceil_mode``.

    >>> _unpooled_grad("sum_unpool2d", np.zeros((1, 1, 2, 2)), (4, 4), 2, None, 0, False).kernel
    (2, 2)
    """
    check_float(op, "grad", grad)
    return _unpool_geometry(op, grad, x_hw, *window)


def _check_offsets(op: str, offsets: np.ndarray, g: PoolGeometry) -> None:
    if offsets.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: offsets must be integers (as saved by max_pool2d), got dtype {offsets.dtype}"
        )
    if offsets.shape != g.out_shape:
        raise ValueError(
            f"{op}: offsets has shape {offsets.shape}, expected the pooled shape {g.out_shape}"
        )
    window = g.kernel[0] * g.kernel[1]
    if offsets.size and (offsets.min() < 0 or offsets.max() >= window):
        raise ValueError(
            f"{op}: offsets must lie in [0, {window}) for kernel_size {g.kernel}, got values in "
            f"[{offsets.min()}, {offsets.max()}]"
        )


def _offsets_tensor(ctx: Context) -> Tensor:
    """The saved winner offsets as a named constant (a leaf of the backward graph)."""
    (offsets,) = ctx.saved_arrays
    t = mg.as_tensor(offsets)
    t.name = "offsets"
    return t


def _x_hw(ctx: Context) -> tuple[int, int]:
    x = ctx.inputs[0]
    assert x is not None  # a required input
    return (int(x.shape[2]), int(x.shape[3]))
